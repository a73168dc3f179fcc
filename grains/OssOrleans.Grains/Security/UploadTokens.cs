using System.Buffers.Text;
using System.Text.Json;

namespace OssOrleans.Grains.Security;

/// <summary>What an upload session allows: parts of this object of this origin upload, by this tenant, until then.</summary>
internal sealed record UploadClaims(string Bucket, string Key, string UploadId, int ShardSize, int PartSize, bool CreateOnly, string Tenant, long ExpiresAt)
{
    public ObjectUri Uri => new(Bucket, Key);
}

/// <summary>
/// Upload session tokens: <c>v1.{base64url(claims as JSON)}.{mac}</c>, signed with the cluster's upload key. The upload
/// grain issues one when an upload starts; data planes accept parts only with it (and read bucket, key, upload id and part
/// size from it, not from the request), and the upload grain completes or aborts only what its token names. Like the rest
/// of the session, it survives the loss of the silo that issued it.
/// </summary>
internal static class UploadTokens
{
    private const string Version = "v1";

    // Upload ids are the origin's choice; a token stays far below any URL limit with these bounds.
    private const int MaxTokenLength = 4096;

    public static string Issue(ClusterKeys keys, UploadClaims claims)
    {
        string payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims));
        return $"{Version}.{payload}.{ClusterKeys.Mac(keys.UploadSession, Version + "." + payload)}";
    }

    /// <summary>The claims of a token this cluster signed and that has not expired; false otherwise.</summary>
    public static bool TryRead(ClusterKeys keys, string? token, DateTimeOffset now, out UploadClaims claims)
    {
        claims = null!;
        if (token is null || token.Length > MaxTokenLength)
            return false;
        int last = token.LastIndexOf('.');
        if (last <= 0 || !token.StartsWith(Version + ".", StringComparison.Ordinal))
            return false;
        if (!ClusterKeys.Verify(keys.UploadSession, token[..last], token[(last + 1)..]))
            return false;
        try
        {
            claims = JsonSerializer.Deserialize<UploadClaims>(Base64Url.DecodeFromChars(token.AsSpan(Version.Length + 1, last - Version.Length - 1)))!;
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return false;
        }
        return claims is not null && claims.ExpiresAt >= now.ToUnixTimeSeconds();
    }
}
