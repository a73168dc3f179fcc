using System.Text;

namespace OssOrleans.Storage;

/// <summary>Checks on bucket names and keys, and the key order object stores list in.</summary>
internal static class StoreKeys
{
    /// <summary>The S3 limit on a key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Accepts S3-style bucket names (1-63 of a-z, A-Z, 0-9, '.', '-', '_', starting with a letter or digit).</summary>
    public static void ValidateBucket(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (bucket.Length is 0 or > 63)
        {
            throw new ArgumentException($"bucket name must be 1 to 63 characters (got {bucket.Length})", nameof(bucket));
        }
        if (!char.IsAsciiLetterOrDigit(bucket[0]))
        {
            throw new ArgumentException($"bucket name '{bucket}' must start with a letter or digit", nameof(bucket));
        }
        foreach (char c in bucket)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '_'))
            {
                throw new ArgumentException($"bucket name '{bucket}' may only contain letters, digits, '.', '-' and '_'", nameof(bucket));
            }
        }
    }

    /// <summary>Accepts any key an S3 store accepts: non-empty, at most 1024 UTF-8 bytes, valid UTF-16.</summary>
    public static void ValidateKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            throw new ArgumentException("key must not be empty", nameof(key));
        }
        if (!IsWellFormedUtf16(key))
        {
            throw new ArgumentException("key contains an unpaired surrogate", nameof(key));
        }
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            throw new ArgumentException($"key is longer than {MaxKeyBytes} UTF-8 bytes", nameof(key));
        }
    }

    /// <summary>
    /// The stricter rule for keys that become file paths: besides <see cref="ValidateKey"/>, refuses
    /// anything that could leave or corrupt the root: '.' or '..' segments, empty segments ('//'),
    /// a leading or trailing '/', a backslash and NUL.
    /// </summary>
    public static void ValidatePathKey(string key)
    {
        ValidateKey(key);
        if (key.Contains('\\') || key.Contains('\0'))
        {
            throw new ArgumentException("key must not contain a backslash or NUL", nameof(key));
        }
        if (key[0] == '/' || key[^1] == '/')
        {
            throw new ArgumentException("key must not start or end with '/'", nameof(key));
        }
        foreach (Range segment in key.AsSpan().Split('/'))
        {
            ReadOnlySpan<char> s = key.AsSpan(segment);
            if (s.IsEmpty)
            {
                throw new ArgumentException("key must not contain an empty segment ('//')", nameof(key));
            }
            if (s is "." or "..")
            {
                throw new ArgumentException("key must not contain a '.' or '..' segment", nameof(key));
            }
        }
    }

    /// <summary>Strips a weak prefix and the quotes, so ETags from different responses compare equal.</summary>
    public static string NormalizeETag(string etag)
    {
        ReadOnlySpan<char> s = etag.AsSpan().Trim();
        if (s.StartsWith("W/", StringComparison.Ordinal))
        {
            s = s[2..];
        }
        if (s.Length >= 2 && s[0] == '"' && s[^1] == '"')
        {
            s = s[1..^1];
        }
        return s.ToString();
    }

    /// <summary>True when both ETags name the same version.</summary>
    public static bool ETagEquals(string a, string b) => string.Equals(NormalizeETag(a), NormalizeETag(b), StringComparison.Ordinal);

    private static bool IsWellFormedUtf16(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                {
                    return false;
                }
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>
/// Orders strings as S3 lists keys: by their UTF-8 bytes, which is Unicode code point order.
/// <see cref="string.CompareOrdinal(string, string)"/> differs for characters outside the BMP,
/// whose UTF-16 surrogates (0xD800-0xDFFF) sort below 0xE000-0xFFFF although their code points are higher.
/// </summary>
internal sealed class Utf8OrdinalComparer : IComparer<string>
{
    public static Utf8OrdinalComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }
        if (x is null)
        {
            return -1;
        }
        if (y is null)
        {
            return 1;
        }
        int common = Math.Min(x.Length, y.Length);
        for (int i = 0; i < common; i++)
        {
            char a = x[i];
            char b = y[i];
            if (a != b)
            {
                // At the first difference, lift surrogates above the rest of the BMP. Earlier equal units
                // mean both strings are at the same position of a surrogate pair, so this is exact.
                return Fix(a) - Fix(b);
            }
        }
        return x.Length - y.Length;
    }

    private static int Fix(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
