using System.Text;

namespace OssOrleans;

/// <summary>
/// An object or prefix address: <c>oss://bucket/key</c> or <c>s3://bucket/key</c>. The only place where
/// such strings are parsed and validated. The key may be empty (a whole bucket, used as a listing prefix).
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.ObjectUri")]
public readonly record struct ObjectUri
{
    /// <summary>S3 and OSS both cap keys at 1023 bytes of UTF-8.</summary>
    public const int MaxKeyBytes = 1023;

    [Id(0)] public string Bucket { get; }
    [Id(1)] public string Key { get; }

    public ObjectUri(string bucket, string key)
    {
        ValidateBucket(bucket, nameof(bucket));
        ValidateKey(key ?? throw new ArgumentNullException(nameof(key)), nameof(key));
        Bucket = bucket;
        Key = key;
    }

    /// <summary>Parses <c>oss://bucket/key</c> or <c>s3://bucket/key</c>; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static ObjectUri Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        int sep = uri.IndexOf("://", StringComparison.Ordinal);
        if (sep < 0)
            throw new ArgumentException($"not an object URI: '{Truncate(uri)}' (expected oss://bucket/key or s3://bucket/key)", nameof(uri));
        string scheme = uri[..sep];
        if (!scheme.Equals("oss", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("s3", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"unknown URI scheme '{Truncate(scheme)}' in '{Truncate(uri)}' (expected oss:// or s3://)", nameof(uri));
        string rest = uri[(sep + 3)..];
        int slash = rest.IndexOf('/');
        string bucket = slash < 0 ? rest : rest[..slash];
        string key = slash < 0 ? "" : rest[(slash + 1)..];
        if (bucket.Length == 0)
            throw new ArgumentException($"empty bucket in '{Truncate(uri)}'", nameof(uri));
        ValidateBucket(bucket, nameof(uri));
        ValidateKey(key, nameof(uri));
        return new ObjectUri(bucket, key);
    }

    public static bool TryParse(string? uri, out ObjectUri result)
    {
        result = default;
        if (uri is null) return false;
        try { result = Parse(uri); return true; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Throws unless the URI names an object (a non-empty key that does not end in '/').</summary>
    public ObjectUri RequireObject()
    {
        if (Key.Length == 0 || Key.EndsWith('/'))
            throw new ArgumentException($"'{this}' names a prefix, not an object");
        return this;
    }

    /// <summary>A child of this prefix: <c>oss://b/p/</c> + <c>x</c>.</summary>
    public ObjectUri Child(string relativeKey) => new(Bucket, Key + relativeKey);

    public override string ToString() => $"oss://{Bucket}/{Key}";

    // Rules common to OSS and S3: 3-63 chars of lowercase letters, digits, '-' (and '.' for S3), starting and ending with a letter or digit.
    private static void ValidateBucket(string bucket, string paramName)
    {
        ArgumentNullException.ThrowIfNull(bucket, paramName);
        if (bucket.Length is < 3 or > 63)
            throw new ArgumentException($"invalid bucket name '{Truncate(bucket)}': must be 3 to 63 characters", paramName);
        foreach (char c in bucket)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.'))
                throw new ArgumentException($"invalid bucket name '{Truncate(bucket)}': only lowercase letters, digits, '-' and '.' are allowed", paramName);
        }
        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
            throw new ArgumentException($"invalid bucket name '{bucket}': must start and end with a letter or digit", paramName);
    }

    private static void ValidateKey(string key, string paramName)
    {
        int bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > MaxKeyBytes)
            throw new ArgumentException($"object key is {bytes} bytes of UTF-8; the limit is {MaxKeyBytes}", paramName);
        if (key.Contains('\0'))
            throw new ArgumentException("object key contains a NUL character", paramName);
        if (key.StartsWith('/') || key.StartsWith('\\'))
            throw new ArgumentException($"object key '{Truncate(key)}' must not start with '/' or '\\'", paramName);
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
