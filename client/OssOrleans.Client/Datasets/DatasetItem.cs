namespace OssOrleans.Client.Datasets;

/// <summary>
/// One sample of a dataset, read through the cluster: the object (or tar member) at <see cref="Index"/> of the pinned
/// snapshot, with the bytes of exactly the version (<see cref="ETag"/>) pinned there.
/// </summary>
/// <remarks>
/// Disposing an item gives its buffer back to the dataset, which reuses it for a later item: a training loop that
/// disposes each sample once it has used it reads with no new allocations. Disposing is optional (an item that is not
/// disposed is collected as usual), but after it neither <see cref="Data"/> nor any memory or stream taken from the item
/// may be used.
/// </remarks>
public sealed class DatasetItem : IDisposable
{
    private readonly int _length;
    private readonly ItemBufferPool? _pool;
    private byte[]? _buffer;

    internal DatasetItem(int index, string key, string etag, string? label, byte[] data)
        : this(index, key, etag, label, data, data.Length, pool: null)
    {
    }

    // buffer holds the bytes in [0, length); it was rented from pool when that is set.
    internal DatasetItem(int index, string key, string etag, string? label, byte[] buffer, int length, ItemBufferPool? pool)
    {
        Index = index;
        Key = key;
        ETag = etag;
        Label = label;
        _buffer = buffer;
        _length = length;
        _pool = pool;
    }

    /// <summary>Position in the snapshot, 0-based.</summary>
    public int Index { get; }

    /// <summary>The full object URI (oss://bucket/key), or for a tar member its name inside the tar.</summary>
    public string Key { get; }

    /// <summary>The pinned version: the object's ETag, or the tar's for a tar member.</summary>
    public string ETag { get; }

    /// <summary>The label from the manifest, or null.</summary>
    public string? Label { get; }

    public long Size => _length;

    /// <summary>The sample's bytes, until the item is disposed.</summary>
    public ReadOnlyMemory<byte> Data => Buffer().AsMemory(0, _length);

    /// <summary>A read-only, seekable stream over <see cref="Data"/> (no copy), valid until the item is disposed.</summary>
    public Stream OpenStream() => new MemoryStream(Buffer(), 0, _length, writable: false, publiclyVisible: false);

    /// <summary>Gives the item's buffer back to its dataset for reuse. Idempotent.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
            _pool?.Return(buffer);
    }

    public override string ToString() => $"{Key} ({Size} bytes)";

    private byte[] Buffer() => _buffer ?? throw new ObjectDisposedException(nameof(DatasetItem), $"dataset item {Key} was disposed; its buffer now holds another item");
}

/// <summary>Reading a dataset item failed for a reason other than a missing object (which reaches the transform as null).</summary>
public sealed class DatasetItemException : IOException
{
    public DatasetItemException(string key, string reason, Exception? inner = null)
        : base($"dataset item {key}: {reason}", inner)
    {
        Key = key;
        Reason = reason;
    }

    /// <summary>The item's URI (or tar member name).</summary>
    public string Key { get; }

    public string Reason { get; }
}
