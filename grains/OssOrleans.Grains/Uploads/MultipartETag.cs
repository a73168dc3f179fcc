using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;

namespace OssOrleans.Grains.Uploads;

/// <summary>
/// The ETag S3 (and OSS) give a completed multipart upload: the MD5 of the parts' binary MD5s, then "-" and the part
/// count. Knowing it, a complete whose answer was lost can be recognized by a HEAD: an object with exactly this ETag is
/// the upload itself, not someone else's write.
/// </summary>
internal static class MultipartETag
{
    /// <summary>The expected ETag (unquoted, lower-case hex), or null when a part's ETag is not a plain MD5.</summary>
    public static string? Compute(IReadOnlyList<UploadedPartInfo> parts)
    {
        var concat = new byte[16 * parts.Count];
        for (int i = 0; i < parts.Count; i++)
        {
            string hex = parts[i].ETag.Trim().Trim('"');
            if (hex.Length != 32 || Convert.FromHexString(hex, concat.AsSpan(16 * i, 16), out _, out _) != OperationStatus.Done)
                return null;
        }
        return Convert.ToHexStringLower(MD5.HashData(concat)) + "-" + parts.Count.ToString(CultureInfo.InvariantCulture);
    }

    public static bool Matches(string etag, string expected) =>
        string.Equals(etag.Trim().Trim('"'), expected, StringComparison.OrdinalIgnoreCase);
}
