namespace OssOrleans.Client;

/// <summary>Options of <see cref="OssCacheClient.ListAsync(string, ListOptions?, CancellationToken)"/>.</summary>
public sealed class ListOptions
{
    /// <summary>
    /// Fast list: the cluster splits the keyspace into list partitions (by directory and by key range) and lists them in
    /// parallel across its silos; results are cached per partition for the silo's list cache TTL. When false, a plain
    /// list: one sequential ListObjectsV2 paging, in key order. Both return exactly the same entries. Default true.
    /// </summary>
    public bool Fast { get; set; } = true;

    /// <summary>
    /// One level, as S3 lists with a delimiter: the keys with no delimiter after the prefix, and each common prefix (up to
    /// and including the first delimiter after the prefix) once, as an entry with <see cref="ObjectEntry.IsPrefix"/> set
    /// (size 0, empty ETag). Default null: every key under the prefix, at any depth, and no prefix entries.
    /// </summary>
    public string? Delimiter { get; set; }

    /// <summary>
    /// Return a fast list in key order (UTF-8 byte order, as S3 lists). Default false: entries come as partitions deliver
    /// them, each exactly once, which is fastest. A plain list is always in key order.
    /// </summary>
    public bool Sorted { get; set; }

    /// <summary>
    /// List partitions this client reads at once (like a connector's listConcurrency). Each partition has about one list
    /// request in flight, so this should be at least the list slots of a silo (Cache:MaxListConcurrency, 64 each). It
    /// bounds the client's memory: a few packed batches of up to 1000 entries per partition being read. Default 64.
    /// </summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>Called with each partition as the client starts reading it (tests and diagnostics).</summary>
    internal Action<ListPartitionKey>? OnPartition { get; set; }

    /// <summary>Called when a partition's stream was lost and the client resumes it (tests and diagnostics).</summary>
    internal Action<ListPartitionKey, Exception>? OnResume { get; set; }

    internal void Validate()
    {
        if (Delimiter is { Length: 0 })
            throw new ArgumentException("ListOptions.Delimiter: must be null or non-empty");
        if (Concurrency is < 1 or > 1024)
            throw new ArgumentException($"ListOptions.Concurrency: must be between 1 and 1024 (got {Concurrency})");
    }
}
