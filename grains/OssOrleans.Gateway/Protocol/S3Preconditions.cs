using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Conditional requests as S3 answers them, which is RFC 9110's order of evaluation:
/// <list type="number">
/// <item>If-Match present: no listed ETag matches (or no object) is 412; if it matches, If-Unmodified-Since is not
/// looked at ("If-Match true and If-Unmodified-Since false: 200", as S3 documents). Absent: If-Unmodified-Since
/// earlier than Last-Modified is 412.</item>
/// <item>If-None-Match present: a listed ETag matches (or "*" and the object exists) is 304 for GET and HEAD, 412
/// otherwise; if none matches, If-Modified-Since is not looked at. Absent: for GET and HEAD, If-Modified-Since
/// at or after Last-Modified is 304 ("If-None-Match false and If-Modified-Since true: 304").</item>
/// </list>
/// ETags compare without quotes or W/; times at whole seconds, as Last-Modified is sent. An unreadable date is
/// ignored, as HTTP requires. The copy-source conditions (<c>x-amz-copy-source-if-*</c>) follow the same rules,
/// except that every failure is 412.
/// </summary>
internal static class S3Preconditions
{
    private static readonly string[] HttpDateFormats =
    [
        "r",                                  // RFC 1123: Sun, 06 Nov 1994 08:49:37 GMT
        "dddd, dd-MMM-yy HH:mm:ss 'GMT'",     // RFC 850
        "ddd MMM d HH:mm:ss yyyy",            // asctime
        "ddd MMM dd HH:mm:ss yyyy",
        "yyyy-MM-dd'T'HH:mm:ss'Z'",           // ISO 8601, which some clients send and S3 reads
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
    ];

    /// <param name="etag">The object's ETag, or null when there is no object (a conditional write).</param>
    /// <param name="lastModified">The object's Last-Modified, or null when there is no object.</param>
    /// <param name="isGetOrHead">Whether a failed If-None-Match or If-Modified-Since is 304 (GET, HEAD) or 412.</param>
    public static PreconditionResult Evaluate(IHeaderDictionary headers, string? etag, DateTimeOffset? lastModified, bool isGetOrHead)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return Evaluate(headers.IfMatch, headers.IfNoneMatch, headers.IfModifiedSince, headers.IfUnmodifiedSince, etag, lastModified, isGetOrHead);
    }

    /// <summary>The x-amz-copy-source-if-* conditions on the copy's source object; every failure is 412.</summary>
    public static PreconditionResult EvaluateCopySource(IHeaderDictionary headers, string etag, DateTimeOffset lastModified)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var result = Evaluate(headers["x-amz-copy-source-if-match"], headers["x-amz-copy-source-if-none-match"],
            headers["x-amz-copy-source-if-modified-since"], headers["x-amz-copy-source-if-unmodified-since"], etag, lastModified, isGetOrHead: true);
        return result == PreconditionResult.Proceed ? result : PreconditionResult.PreconditionFailed;
    }

    private static PreconditionResult Evaluate(StringValues ifMatch, StringValues ifNoneMatch, StringValues ifModifiedSince,
        StringValues ifUnmodifiedSince, string? etag, DateTimeOffset? lastModified, bool isGetOrHead)
    {
        long? modified = lastModified?.ToUnixTimeSeconds();
        if (ifMatch.Count > 0)
        {
            if (!AnyMatches(ifMatch, etag))
                return PreconditionResult.PreconditionFailed;
        }
        else if (TryParseDate(ifUnmodifiedSince, out long unmodifiedSince) && modified is { } m && m > unmodifiedSince)
        {
            return PreconditionResult.PreconditionFailed;
        }

        if (ifNoneMatch.Count > 0)
        {
            if (AnyMatches(ifNoneMatch, etag))
                return isGetOrHead ? PreconditionResult.NotModified : PreconditionResult.PreconditionFailed;
        }
        else if (isGetOrHead && TryParseDate(ifModifiedSince, out long modifiedSince) && modified is { } m && m <= modifiedSince)
        {
            return PreconditionResult.NotModified;
        }
        return PreconditionResult.Proceed;
    }

    private static bool AnyMatches(StringValues header, string? etag)
    {
        if (etag is null)
            return false;
        var current = Normalize(etag);
        foreach (string? value in header)
        {
            foreach (var item in (value ?? "").Split(','))
            {
                var candidate = item.AsSpan().Trim();
                if (candidate is "*" || (!candidate.IsEmpty && Normalize(candidate).SequenceEqual(current)))
                    return true;
            }
        }
        return false;
    }

    private static ReadOnlySpan<char> Normalize(ReadOnlySpan<char> etag)
    {
        etag = etag.Trim();
        if (etag.StartsWith("W/", StringComparison.Ordinal))
            etag = etag[2..];
        if (etag.Length >= 2 && etag[0] == '"' && etag[^1] == '"')
            etag = etag[1..^1];
        return etag;
    }

    private static bool TryParseDate(StringValues header, out long unixSeconds)
    {
        unixSeconds = 0;
        if (header.Count != 1 || header[0] is not { Length: > 0 and < 64 } text)
            return false;
        if (!DateTimeOffset.TryParseExact(text.Trim(), HttpDateFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowInnerWhite, out var time))
        {
            return false;
        }
        unixSeconds = time.ToUnixTimeSeconds();
        return true;
    }
}
