using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// What the protocol layer reads of a request before its body: the method, the path and query exactly as the client
/// sent them (percent-encoded, not normalised), the parsed query, and the headers. Built from Kestrel's raw target,
/// never from <see cref="HttpRequest.Path"/>, which ASP.NET Core has already decoded and normalised ("/a/../b", "%2F"),
/// so it is neither what the client signed nor the key it meant.
/// </summary>
internal sealed class S3RequestHead
{
    /// <summary>A path longer than this cannot carry a valid request (a 63-character bucket and a 1024-byte key, all escaped).</summary>
    public const int MaxRawPathLength = 8 * 1024;

    private S3RequestHead(string method, string rawPath, string rawQuery, S3Query query, IHeaderDictionary headers)
    {
        Method = method;
        RawPath = rawPath;
        RawQuery = rawQuery;
        Query = query;
        Headers = headers;
    }

    /// <summary>Upper case, as sent (HTTP methods are case-sensitive).</summary>
    public string Method { get; }

    /// <summary>The path as sent, starting with '/', still percent-encoded.</summary>
    public string RawPath { get; }

    /// <summary>The query as sent, without the '?'.</summary>
    public string RawQuery { get; }

    public S3Query Query { get; }

    public IHeaderDictionary Headers { get; }

    /// <summary>From a request target as on the request line ("/bucket/key?uploads").</summary>
    public static bool TryCreate(string method, string rawTarget, IHeaderDictionary headers,
        [NotNullWhen(true)] out S3RequestHead? head, [NotNullWhen(false)] out S3Error? error)
    {
        int q = rawTarget.IndexOf('?');
        return q < 0
            ? TryCreate(method, rawTarget, "", headers, out head, out error)
            : TryCreate(method, rawTarget[..q], rawTarget[(q + 1)..], headers, out head, out error);
    }

    public static bool TryCreate(string method, string rawPath, string rawQuery, IHeaderDictionary headers,
        [NotNullWhen(true)] out S3RequestHead? head, [NotNullWhen(false)] out S3Error? error)
    {
        head = null;
        // Absolute-form targets ("http://host/path") only come from proxies, and '*' only with OPTIONS: neither is S3.
        if (rawPath.Length == 0 || rawPath[0] != '/' || rawPath.Length > MaxRawPathLength || rawPath.Contains('#'))
        {
            error = S3Errors.InvalidUri();
            return false;
        }
        if (rawQuery.StartsWith('?'))
            rawQuery = rawQuery[1..];
        if (!S3Query.TryParse(rawQuery, out var query, out error))
            return false;
        head = new S3RequestHead(method, rawPath, rawQuery, query, headers);
        return true;
    }

    /// <summary>From an ASP.NET Core request, using the raw target Kestrel received.</summary>
    public static bool TryCreate(HttpContext context, [NotNullWhen(true)] out S3RequestHead? head, [NotNullWhen(false)] out S3Error? error)
    {
        var request = context.Request;
        string rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (request.PathBase + request.Path + request.QueryString).ToString();
        return TryCreate(request.Method, rawTarget, request.Headers, out head, out error);
    }
}
