using System.Diagnostics.CodeAnalysis;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// GetObject's <c>response-*</c> query parameters, which set headers of the answer (a presigned download that names
/// its own file, say). S3 takes them only on authenticated requests; values holding control characters are refused
/// so they cannot split or add headers.
/// </summary>
internal static class ResponseOverrides
{
    private const int MaxValueLength = 1024;

    private static readonly (string Parameter, string Header)[] Parameters =
    [
        ("response-content-type", "Content-Type"),
        ("response-content-language", "Content-Language"),
        ("response-expires", "Expires"),
        ("response-cache-control", "Cache-Control"),
        ("response-content-disposition", "Content-Disposition"),
        ("response-content-encoding", "Content-Encoding"),
    ];

    /// <summary>The headers to set on the answer (header name, value), in a fixed order; empty when none were asked for.</summary>
    public static bool TryRead(S3Query query, bool authenticated, [NotNullWhen(true)] out IReadOnlyList<KeyValuePair<string, string>>? headers,
        [NotNullWhen(false)] out S3Error? error)
    {
        ArgumentNullException.ThrowIfNull(query);
        headers = null;
        error = null;
        var found = new List<KeyValuePair<string, string>>();
        foreach (var (parameter, header) in Parameters)
        {
            int count = query.Count(parameter);
            if (count == 0)
                continue;
            if (!authenticated)
            {
                error = S3Errors.InvalidRequest("Request specific response headers cannot be used for anonymous GET requests.");
                return false;
            }
            string value = query[parameter]!;
            if (count > 1 || value.Length > MaxValueLength || value.AsSpan().IndexOfAnyExceptInRange(' ', '~') >= 0)
            {
                error = S3Errors.InvalidArgument($"{parameter} must be given once, as printable ASCII of at most {MaxValueLength} characters.");
                return false;
            }
            found.Add(new(header, value));
        }
        headers = found;
        return true;
    }
}
