using System.Text;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// S3's rules for bucket names and keys, answered with S3's errors. Bucket names follow the general-purpose rules
/// (3-63 characters of a-z, 0-9, '.', '-'; a letter or digit at each end; no "..", no IPv4 form, none of the
/// prefixes and suffixes S3 reserves), which are also what virtual-hosted addressing needs. Keys are any Unicode of
/// 1 to 1024 UTF-8 bytes.
/// </summary>
/// <remarks>
/// The store has its own, laxer check (<c>StoreKeys.ValidateBucket</c> in OssOrleans.Storage: upper case and '_'
/// allowed, for legacy origin buckets). Clients reach the gateway with today's rules; a legacy-named origin bucket
/// would need an alias.
/// </remarks>
internal static class S3Names
{
    public const int MaxKeyBytes = 1024;

    public static S3Error? ValidateBucket(string? bucket)
    {
        if (bucket is null || bucket.Length is < 3 or > 63)
            return S3Errors.InvalidBucketName("The specified bucket is not valid: a bucket name has 3 to 63 characters.");
        if (!IsLowerAlnum(bucket[0]) || !IsLowerAlnum(bucket[^1]))
            return S3Errors.InvalidBucketName("The specified bucket is not valid: a bucket name starts and ends with a lower-case letter or a digit.");
        foreach (char c in bucket)
        {
            if (!IsLowerAlnum(c) && c is not ('.' or '-'))
                return S3Errors.InvalidBucketName("The specified bucket is not valid: a bucket name holds only lower-case letters, digits, '.' and '-'.");
        }
        if (bucket.Contains("..", StringComparison.Ordinal) || LooksLikeIPv4(bucket)
            || bucket.StartsWith("xn--", StringComparison.Ordinal) || bucket.StartsWith("sthree-", StringComparison.Ordinal)
            || bucket.EndsWith("-s3alias", StringComparison.Ordinal) || bucket.EndsWith("--ol-s3", StringComparison.Ordinal))
        {
            return S3Errors.InvalidBucketName();
        }
        return null;
    }

    public static S3Error? ValidateKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
            return S3Errors.InvalidArgument("An object key must not be empty.");
        // Count bytes without encoding: a key over the limit in UTF-16 units is over it in bytes too.
        if (key.Length > MaxKeyBytes || Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
            return S3Errors.KeyTooLong();
        if (!IsWellFormed(key))
            return S3Errors.InvalidArgument("An object key must be valid Unicode.");
        return null;
    }

    private static bool IsLowerAlnum(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);

    private static bool LooksLikeIPv4(string name)
    {
        string[] parts = name.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit));
    }

    private static bool IsWellFormed(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                    return false;
                i++;
            }
            else if (char.IsLowSurrogate(s[i]))
            {
                return false;
            }
        }
        return true;
    }
}
