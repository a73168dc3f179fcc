using OssOrleans.Checksums;
using System.Security.Cryptography;

namespace OssOrleans.TestKit;

/// <summary>
/// Immutable object content: one or more byte arrays (several when the object came from multipart
/// parts or a large PUT, so objects may exceed the 2 GiB array limit), its ETag and, lazily, its CRC-64/XZ.
/// One blob may back many keys (bulk loads of tiny objects share one).
/// </summary>
internal sealed class Blob
{
    private static long s_tagCounter;
    private static readonly long s_tagSeed = Random.Shared.NextInt64();
    private long _crc64;
    private int _crcState; // 0 = not computed, 1 = computed

    public Blob(byte[][] segments, string eTag, byte[]? md5)
    {
        Segments = segments;
        long total = 0;
        Starts = new long[segments.Length];
        for (int i = 0; i < segments.Length; i++)
        {
            Starts[i] = total;
            total += segments[i].Length;
        }
        Length = total;
        ETag = eTag;
        Md5 = md5;
    }

    public byte[][] Segments { get; }

    /// <summary>Offset of each segment in the object.</summary>
    public long[] Starts { get; }

    public long Length { get; }

    /// <summary>Quoted, as sent in the ETag header.</summary>
    public string ETag { get; }

    /// <summary>Binary MD5 of the content (null when ETags are counter-based or for multipart objects).</summary>
    public byte[]? Md5 { get; }

    public static Blob Create(byte[] data, bool md5ETag) => Create([data], md5ETag);

    public static Blob Create(byte[][] segments, bool md5ETag)
    {
        if (!md5ETag)
        {
            return new Blob(segments, NewUniqueTag(), null);
        }
        byte[] md5 = ComputeMd5(segments);
        return new Blob(segments, Quote(Convert.ToHexStringLower(md5)), md5);
    }

    public static byte[] ComputeMd5(byte[][] segments)
    {
        if (segments.Length == 1)
        {
            return MD5.HashData(segments[0]);
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        foreach (var s in segments)
        {
            hash.AppendData(s);
        }
        return hash.GetHashAndReset();
    }

    /// <summary>
    /// A unique tag that does not look like a plain MD5: AWSSDK.S3 checks the MD5 of a whole-object GET
    /// against an ETag of 32 hex digits and fails when they differ, so the tag ends in "-1" like a
    /// one-part multipart ETag, which the SDK does not check.
    /// </summary>
    public static string NewUniqueTag() =>
        Quote($"{s_tagSeed:x16}{Interlocked.Increment(ref s_tagCounter):x16}-1");

    public static string Quote(string s) => "\"" + s + "\"";

    public ulong Crc64
    {
        get
        {
            if (Volatile.Read(ref _crcState) == 1)
            {
                return (ulong)Volatile.Read(ref _crc64);
            }
            var crc = OssOrleans.Checksums.Crc64Xz.CreateHasher();
            foreach (var s in Segments)
            {
                crc.Append(s);
            }
            ulong value = crc.GetCurrentHashAsUInt64();
            Volatile.Write(ref _crc64, (long)value);
            Volatile.Write(ref _crcState, 1);
            return value;
        }
    }

    /// <summary>Sets the CRC-64 when it is known without reading the bytes (a completed upload: its parts' CRCs combined).</summary>
    public void SetKnownCrc64(ulong value)
    {
        Volatile.Write(ref _crc64, (long)value);
        Volatile.Write(ref _crcState, 1);
    }

    /// <summary>Index of the segment holding <paramref name="offset"/> (offset &lt; Length).</summary>
    public int SegmentOf(long offset)
    {
        int i = Array.BinarySearch(Starts, offset);
        if (i < 0)
        {
            i = ~i - 1;
        }
        // Skip empty segments that share a start offset.
        while (i < Segments.Length - 1 && offset - Starts[i] >= Segments[i].Length)
        {
            i++;
        }
        return i;
    }

    /// <summary>Copies the whole content into one array (for tests; fails above the array size limit).</summary>
    public byte[] ToArray()
    {
        if (Segments.Length == 1)
        {
            return (byte[])Segments[0].Clone();
        }
        var result = GC.AllocateUninitializedArray<byte>(checked((int)Length));
        for (int i = 0; i < Segments.Length; i++)
        {
            Segments[i].CopyTo(result, Starts[i]);
        }
        return result;
    }
}

/// <summary>An object version: content plus metadata. Immutable, so one instance may back many keys.</summary>
internal sealed record StoredObject(
    Blob Blob,
    DateTimeOffset LastModified,
    string ContentType,
    IReadOnlyList<KeyValuePair<string, string>>? Metadata)
{
    /// <summary>LastModified as list pages show it, formatted once.</summary>
    public string IsoLastModified { get; } = S3Xml.IsoTime(LastModified);
}

/// <summary>One bucket: keys in UTF-8 order. Every access takes the bucket's lock.</summary>
internal sealed class SimBucket(string name)
{
    private readonly SortedIndex<StoredObject> _objects = new();

    public string Name { get; } = name;

    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;

    public object Gate { get; } = new();

    /// <summary>The index itself; callers must hold <see cref="Gate"/>.</summary>
    public SortedIndex<StoredObject> Index => _objects;

    public int Count
    {
        get
        {
            lock (Gate)
            {
                return _objects.Count;
            }
        }
    }

    public StoredObject? Get(string key)
    {
        lock (Gate)
        {
            return _objects.TryGetValue(key, out var obj) ? obj : null;
        }
    }

    public void Set(string key, StoredObject obj)
    {
        lock (Gate)
        {
            _objects.Set(key, obj);
        }
    }

    /// <summary>Stores unless <paramref name="createOnly"/> and the key exists; returns false then.</summary>
    public bool TrySet(string key, StoredObject obj, bool createOnly)
    {
        lock (Gate)
        {
            if (createOnly && _objects.TryGetValue(key, out _))
            {
                return false;
            }
            _objects.Set(key, obj);
            return true;
        }
    }

    public bool Remove(string key)
    {
        lock (Gate)
        {
            return _objects.Remove(key);
        }
    }
}

/// <summary>A multipart upload in progress.</summary>
internal sealed class MultipartUpload(string id, SimBucket bucket, string key, string contentType,
    IReadOnlyList<KeyValuePair<string, string>>? metadata)
{
    public string Id { get; } = id;

    public SimBucket Bucket { get; } = bucket;

    public string Key { get; } = key;

    public string ContentType { get; } = contentType;

    public IReadOnlyList<KeyValuePair<string, string>>? Metadata { get; } = metadata;

    public DateTimeOffset Initiated { get; } = DateTimeOffset.UtcNow;

    public System.Collections.Concurrent.ConcurrentDictionary<int, Blob> Parts { get; } = new();

    public System.Collections.Concurrent.ConcurrentDictionary<int, DateTimeOffset> PartTimes { get; } = new();
}
