namespace OssOrleans.Client.Datasets;

/// <summary>
/// One sample of a dataset, read through the cluster: the object (or tar member) at <see cref="Index"/> of the pinned
/// snapshot, with the bytes of exactly the version (<see cref="ETag"/>) pinned there.
/// </summary>
public sealed class DatasetItem
{
    private readonly byte[] _data;

    internal DatasetItem(int index, string key, string etag, string? label, byte[] data)
    {
        Index = index;
        Key = key;
        ETag = etag;
        Label = label;
        _data = data;
    }

    /// <summary>Position in the snapshot, 0-based.</summary>
    public int Index { get; }

    /// <summary>The full object URI (oss://bucket/key), or for a tar member its name inside the tar.</summary>
    public string Key { get; }

    /// <summary>The pinned version: the object's ETag, or the tar's for a tar member.</summary>
    public string ETag { get; }

    /// <summary>The label from the manifest, or null.</summary>
    public string? Label { get; }

    public long Size => _data.Length;

    /// <summary>The sample's bytes. The item owns them; they are never reused by the dataset.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>A read-only, seekable stream over <see cref="Data"/> (no copy).</summary>
    public Stream OpenStream() => new MemoryStream(_data, 0, _data.Length, writable: false, publiclyVisible: false);

    public override string ToString() => $"{Key} ({Size} bytes)";
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
