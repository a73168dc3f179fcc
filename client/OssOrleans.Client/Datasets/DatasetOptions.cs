namespace OssOrleans.Client.Datasets;

/// <summary>Options of <see cref="OssMapDataset{T}"/> and <see cref="OssIterableDataset{T}"/>.</summary>
public sealed class DatasetOptions
{
    /// <summary>
    /// Names the pinned snapshot. Every rank that opens the same source with the same name sees the same items and ETags,
    /// however the source changes meanwhile. Use a new name (for example per job or per epoch) to take a fresh snapshot.
    /// Default null (one snapshot per source while the cluster keeps it, see <see cref="SnapshotKeepAlive"/>).
    /// </summary>
    public string? SnapshotName { get; set; }

    /// <summary>How long the cluster keeps a snapshot without being asked for it. Default 2 hours.</summary>
    public TimeSpan SnapshotKeepAlive { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// Items an iterator holds or fetches ahead of its consumer, in whole chunks (see <see cref="ChunkSize"/>; one chunk is
    /// always allowed). Default 256. With <see cref="ReadAheadBytes"/> it bounds the iterator's memory.
    /// </summary>
    public int ReadAheadItems { get; set; } = 256;

    /// <summary>Bytes an iterator may hold ahead of its consumer (fetched or being fetched). Default 64 MiB; at least one item (or tar chunk) is always fetched.</summary>
    public long ReadAheadBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Items beyond the read-ahead window that the cluster is asked to load into its cache, without sending them to this
    /// client yet (their bytes stay in the silos' bounded caches). Default 128; 0 turns it off.
    /// </summary>
    public int ClusterPrefetchItems { get; set; } = 128;

    /// <summary>
    /// Bytes of item buffers kept for reuse: a disposed <see cref="DatasetItem"/> gives its buffer back, and later items are
    /// read into it instead of into new memory. Default 64 MiB per dataset; 0 turns reuse off.
    /// </summary>
    public long ItemBufferPoolBytes { get; set; } = 64L << 20;

    /// <summary>Items (or shards) fetched at once by <c>GetItemsAsync</c>. Default 32.</summary>
    public int BatchConcurrency { get; set; } = 32;

    /// <summary>HEAD requests in flight while building a snapshot from a list of objects or a manifest. Default 64.</summary>
    public int StatConcurrency { get; set; } = 64;

    /// <summary>How long a rank waits for another rank to build the snapshot. Default 10 minutes.</summary>
    public TimeSpan BuildTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>This process's rank (iterable datasets). Default 0.</summary>
    public int Rank { get; set; }

    /// <summary>Ranks in the job. Default 1.</summary>
    public int WorldSize { get; set; } = 1;

    /// <summary>This data-loading worker within the rank. Default 0.</summary>
    public int WorkerId { get; set; }

    /// <summary>Data-loading workers per rank. Default 1.</summary>
    public int WorkerCount { get; set; } = 1;

    /// <summary>Shuffle chunks (and the items inside each chunk) from <see cref="Seed"/> and the epoch. Default false: snapshot order.</summary>
    public bool Shuffle { get; set; }

    /// <summary>Seed of the shuffle. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>The epoch an iterable dataset enumerates by default (see <c>ReadEpochAsync</c>). Default 0.</summary>
    public int Epoch { get; set; }

    /// <summary>
    /// Items per chunk: the unit of shuffling and of sharding between ranks and workers. For a tar a chunk is a run of
    /// contiguous members read with one range read, and its size varies around this mean (Gaussian, standard deviation
    /// <see cref="ChunkSizeDeviation"/> times the mean). Default 64.
    /// </summary>
    public int ChunkSize { get; set; } = 64;

    /// <summary>Standard deviation of tar chunk sizes, as a fraction of <see cref="ChunkSize"/>. Default 0.25.</summary>
    public double ChunkSizeDeviation { get; set; } = 0.25;

    /// <summary>Small samples through dataset run grains (true) or one shard grain each (false; benchmarks compare the two).</summary>
    internal bool UseRunGrains { get; set; } = true;

    internal int Shards => WorldSize * WorkerCount;

    internal int ShardIndex => Rank * WorkerCount + WorkerId;

    internal void Validate()
    {
        if (SnapshotKeepAlive <= TimeSpan.Zero)
            throw new ArgumentException($"DatasetOptions.SnapshotKeepAlive: must be positive (got {SnapshotKeepAlive})");
        if (ReadAheadItems < 1)
            throw new ArgumentException($"DatasetOptions.ReadAheadItems: must be at least 1 (got {ReadAheadItems})");
        if (ReadAheadBytes < 1)
            throw new ArgumentException($"DatasetOptions.ReadAheadBytes: must be positive (got {ReadAheadBytes})");
        if (ClusterPrefetchItems < 0)
            throw new ArgumentException($"DatasetOptions.ClusterPrefetchItems: must not be negative (got {ClusterPrefetchItems})");
        if (ItemBufferPoolBytes < 0)
            throw new ArgumentException($"DatasetOptions.ItemBufferPoolBytes: must not be negative (got {ItemBufferPoolBytes})");
        if (BatchConcurrency < 1)
            throw new ArgumentException($"DatasetOptions.BatchConcurrency: must be at least 1 (got {BatchConcurrency})");
        if (StatConcurrency < 1)
            throw new ArgumentException($"DatasetOptions.StatConcurrency: must be at least 1 (got {StatConcurrency})");
        if (BuildTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"DatasetOptions.BuildTimeout: must be positive (got {BuildTimeout})");
        if (WorldSize < 1 || Rank < 0 || Rank >= WorldSize)
            throw new ArgumentException($"DatasetOptions.Rank/WorldSize: need 0 <= Rank < WorldSize (got {Rank}/{WorldSize})");
        if (WorkerCount < 1 || WorkerId < 0 || WorkerId >= WorkerCount)
            throw new ArgumentException($"DatasetOptions.WorkerId/WorkerCount: need 0 <= WorkerId < WorkerCount (got {WorkerId}/{WorkerCount})");
        if (Epoch < 0)
            throw new ArgumentException($"DatasetOptions.Epoch: must not be negative (got {Epoch})");
        if (ChunkSize < 1)
            throw new ArgumentException($"DatasetOptions.ChunkSize: must be at least 1 (got {ChunkSize})");
        if (ChunkSizeDeviation is < 0 or > 1 || double.IsNaN(ChunkSizeDeviation))
            throw new ArgumentException($"DatasetOptions.ChunkSizeDeviation: must be between 0 and 1 (got {ChunkSizeDeviation})");
    }

    internal DatasetOptions Clone() => (DatasetOptions)MemberwiseClone();
}
