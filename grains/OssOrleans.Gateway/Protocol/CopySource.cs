using System.Diagnostics.CodeAnalysis;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// The source of CopyObject and UploadPartCopy, from <c>x-amz-copy-source</c>: "bucket/key" URL-encoded, with or
/// without a leading '/'. The split is at the first '/' after decoding (a bucket name holds none, so an encoded
/// separator is read the same). A <c>?versionId=</c> is refused (no versioning here); access point ARNs fail as
/// bucket names.
/// </summary>
internal sealed record CopySource(string Bucket, string Key)
{
    private const int MaxHeaderLength = 4096;

    public static bool TryParse(string? header, [NotNullWhen(true)] out CopySource? source, [NotNullWhen(false)] out S3Error? error)
    {
        source = null;
        error = null;
        if (string.IsNullOrEmpty(header) || header.Length > MaxHeaderLength)
        {
            error = Invalid();
            return false;
        }
        var raw = header.AsSpan();
        int question = raw.IndexOf('?');
        if (question >= 0)
        {
            var parameters = raw[(question + 1)..];
            error = parameters.StartsWith("versionId=", StringComparison.Ordinal)
                ? S3Errors.NotImplemented("This gateway does not copy object versions (versionId).")
                : Invalid();
            return false;
        }
        if (raw.StartsWith('/'))
            raw = raw[1..];
        if (!S3Uri.TryDecode(raw, plusIsSpace: true, out string? decoded))
        {
            error = S3Errors.InvalidArgument("Invalid copy source encoding");
            return false;
        }
        int slash = decoded.IndexOf('/');
        if (slash <= 0 || slash == decoded.Length - 1)
        {
            error = Invalid();
            return false;
        }
        string bucket = decoded[..slash], key = decoded[(slash + 1)..];
        if (S3Names.ValidateBucket(bucket) is not null)
        {
            error = S3Errors.InvalidArgument("Invalid copy source bucket name");
            return false;
        }
        if ((error = S3Names.ValidateKey(key)) is not null)
            return false;
        source = new CopySource(bucket, key);
        return true;
    }

    /// <summary>
    /// UploadPartCopy's <c>x-amz-copy-source-range</c>: exactly "bytes=first-last", zero-based and inclusive, inside
    /// the source object.
    /// </summary>
    public static bool TryParseRange(string? header, long sourceSize, out ByteRange range, [NotNullWhen(false)] out S3Error? error)
    {
        range = default;
        error = null;
        const string prefix = "bytes=";
        var text = (header ?? "").AsSpan();
        int dash = text.IndexOf('-');
        if (!text.StartsWith(prefix, StringComparison.Ordinal) || dash < 0 || text.Length > 64
            || !long.TryParse(text[prefix.Length..dash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long first)
            || !long.TryParse(text[(dash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long last)
            || first > last)
        {
            error = S3Errors.InvalidArgument(
                "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy");
            return false;
        }
        if (last >= sourceSize)
        {
            error = S3Errors.InvalidArgument($"Range specified is not valid for source object of size: {sourceSize}");
            return false;
        }
        range = new ByteRange(first, last - first + 1);
        return true;
    }

    private static S3Error Invalid() => S3Errors.InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
}
