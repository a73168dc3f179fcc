using System.Globalization;

namespace OssOrleans;

/// <summary>
/// Identity of one byte-range shard of one object version. Because it includes the ETag (and the shard size),
/// a shard is immutable once loaded: a changed object gets new shard ids and is never served mixed with old bytes.
/// The grain key is built and parsed only here.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.ShardId")]
public readonly record struct ShardId(
    [property: Id(0)] ObjectUri Object,
    [property: Id(1)] string ETag,
    [property: Id(2)] int ShardSize,
    [property: Id(3)] int Index)
{
    /// <summary>First byte of the shard in the object.</summary>
    public long Offset => (long)Index * ShardSize;

    /// <summary>Length of this shard in an object of <paramref name="objectSize"/> bytes.</summary>
    public int LengthIn(long objectSize) => (int)Math.Clamp(objectSize - Offset, 0, ShardSize);

    // Layout: "{shardSize}|{index}|{etagLength}:{etag}|{bucket}/{key}". The ETag is length-prefixed because its
    // characters are the server's choice; the bucket cannot contain '/', and the key goes last so it may hold anything.
    public string ToGrainKey() =>
        string.Create(CultureInfo.InvariantCulture, $"{ShardSize}|{Index}|{ETag.Length}:{ETag}|{Object.Bucket}/{Object.Key}");

    public static ShardId FromGrainKey(string grainKey)
    {
        ArgumentNullException.ThrowIfNull(grainKey);
        var s = grainKey.AsSpan();
        int shardSize = ReadInt(ref s, '|', grainKey);
        int index = ReadInt(ref s, '|', grainKey);
        int etagLength = ReadInt(ref s, ':', grainKey);
        if (s.Length < etagLength + 1 || s[etagLength] != '|')
            throw new FormatException($"malformed shard key '{grainKey}'");
        string etag = s[..etagLength].ToString();
        s = s[(etagLength + 1)..];
        int slash = s.IndexOf('/');
        if (slash < 0)
            throw new FormatException($"malformed shard key '{grainKey}'");
        return new ShardId(new ObjectUri(s[..slash].ToString(), s[(slash + 1)..].ToString()), etag, shardSize, index);
    }

    public override string ToString() => $"{Object}#{Index}@{ETag}";

    private static int ReadInt(ref ReadOnlySpan<char> s, char end, string whole)
    {
        int i = s.IndexOf(end);
        if (i <= 0 || !int.TryParse(s[..i], NumberStyles.None, CultureInfo.InvariantCulture, out int v))
            throw new FormatException($"malformed shard key '{whole}'");
        s = s[(i + 1)..];
        return v;
    }
}

/// <summary>Grain key helpers for per-object grains: "{bucket}/{key}".</summary>
public static class ObjectKeys
{
    public static string ToGrainKey(this ObjectUri uri) => uri.Bucket + "/" + uri.Key;

    public static ObjectUri FromGrainKey(string grainKey)
    {
        int slash = grainKey.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
            throw new FormatException($"malformed object key '{grainKey}'");
        return new ObjectUri(grainKey[..slash], grainKey[(slash + 1)..]);
    }
}
