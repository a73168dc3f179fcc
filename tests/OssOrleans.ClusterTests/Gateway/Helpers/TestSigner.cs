using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>
/// AWS Signature V4 as AWS's documentation describes it, written here (not the gateway's code), for requests no SDK sends:
/// a chosen signing time, a declared payload hash that does not match the body, a presigned URL that expired.
/// Path-style, URIs already escaped as S3 wants them.
/// </summary>
internal static class TestSigner
{
    public const string Unsigned = "UNSIGNED-PAYLOAD";

    /// <summary>Headers to send (x-amz-date, x-amz-content-sha256, Authorization) for a request signed at <paramref name="time"/>.</summary>
    public static Dictionary<string, string> SignHeaders(string method, Uri url, string accessKey, string secret, DateTimeOffset time, string payloadHash,
        IReadOnlyDictionary<string, string>? extraHeaders = null)
    {
        string amzDate = time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = url.Authority,
            ["x-amz-content-sha256"] = payloadHash,
            ["x-amz-date"] = amzDate,
        };
        foreach (var (k, v) in extraHeaders ?? new Dictionary<string, string>())
            headers[k.ToLowerInvariant()] = v;
        string signedHeaders = string.Join(';', headers.Keys);
        string canonical = string.Join('\n', method, url.AbsolutePath, CanonicalQuery(url.Query),
            string.Concat(headers.Select(h => h.Key + ":" + h.Value.Trim() + "\n")), signedHeaders, payloadHash);
        string scope = $"{amzDate[..8]}/us-east-1/s3/aws4_request";
        string signature = Sign(secret, amzDate, scope, canonical);
        var result = new Dictionary<string, string>(headers.Where(h => h.Key != "host"))
        {
            ["Authorization"] = $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}",
        };
        return result;
    }

    /// <summary>A presigned GET URL signed at <paramref name="time"/>, valid <paramref name="expiresSeconds"/> from then.</summary>
    public static string Presign(Uri url, string accessKey, string secret, DateTimeOffset time, int expiresSeconds)
    {
        string amzDate = time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string scope = $"{amzDate[..8]}/us-east-1/s3/aws4_request";
        string query = $"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={Uri.EscapeDataString(accessKey + "/" + scope)}&X-Amz-Date={amzDate}" +
            $"&X-Amz-Expires={expiresSeconds}&X-Amz-SignedHeaders=host";
        string canonical = string.Join('\n', "GET", url.AbsolutePath, CanonicalQuery("?" + query), $"host:{url.Authority}\n", "host", Unsigned);
        return $"{url.GetLeftPart(UriPartial.Path)}?{query}&X-Amz-Signature={Sign(secret, amzDate, scope, canonical)}";
    }

    public static string Sha256Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static string Sign(string secret, string amzDate, string scope, string canonical)
    {
        string stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        byte[] key = Encoding.UTF8.GetBytes("AWS4" + secret);
        foreach (string part in scope.Split('/'))
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
    }

    // Parameters as sent (already escaped), sorted by name then value; a parameter without '=' has an empty value.
    private static string CanonicalQuery(string query)
    {
        if (query.Length <= 1)
            return "";
        var pairs = query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Contains('=') ? (p[..p.IndexOf('=')], p[(p.IndexOf('=') + 1)..]) : (p, ""))
            .OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2, StringComparer.Ordinal);
        return string.Join('&', pairs.Select(p => p.Item1 + "=" + p.Item2));
    }
}
