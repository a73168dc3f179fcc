namespace OssOrleans;

/// <summary>One object (bucket + key): its metadata for a short TTL and its shard map. Key: <see cref="ObjectKeys.ToGrainKey"/>.</summary>
[Alias("OssOrleans.IObjectGrain")]
public interface IObjectGrain : IGrainWithStringKey
{
    /// <summary>Metadata of the current version, from the cache while younger than the TTL.</summary>
    [Alias("GetInfo")]
    Task<ObjectInfo> GetInfoAsync();

    /// <summary>Forgets the cached metadata, so the next call asks the origin (after a write through the cluster). Only silos may call it.</summary>
    [Alias("Invalidate")]
    Task InvalidateAsync();

    /// <summary>Loads the shards covering [offset, offset + length) of version <paramref name="etag"/> into the cluster; returns when they are loaded.</summary>
    [Alias("Prefetch")]
    Task PrefetchAsync(string etag, long offset, long length);
}

/// <summary>One shard of one object version. Key: <see cref="ShardId.ToGrainKey"/>.</summary>
[Alias("OssOrleans.IShardGrain")]
public interface IShardGrain : IGrainWithStringKey
{
    /// <summary>
    /// Loads the shard from the origin unless its silo holds it already (once per cluster), and says where it is.
    /// <paramref name="objectSize"/> is what the caller believes the version's size is; the origin's answer decides, and a
    /// load whose size does not match is refused rather than cached.
    /// </summary>
    [Alias("EnsureLoaded")]
    Task<ShardLocation> EnsureLoadedAsync(long objectSize);
}

/// <summary>
/// The silos' side of a shard grain (same activation as <see cref="IShardGrain"/>; only silos may call it): drops the
/// shard's bytes and refuses to serve the version, after its object failed the origin's whole-object CRC-64.
/// </summary>
[Alias("OssOrleans.IShardControlGrain")]
public interface IShardControlGrain : IGrainWithStringKey
{
    [Alias("Discard")]
    Task DiscardAsync(string reason);
}

/// <summary>One per silo, keyed by the silo's address, placed on that silo: its cache counters. Silos and admins only.</summary>
[Alias("OssOrleans.ISiloStatsGrain")]
public interface ISiloStatsGrain : IGrainWithStringKey
{
    [Alias("GetStats")]
    Task<SiloCacheStats> GetStatsAsync();

    /// <summary>
    /// The shards this silo holds of objects in <paramref name="bucket"/> whose key starts with <paramref name="keyPrefix"/>
    /// (at most <paramref name="limit"/>, in no particular order): what the admin API shows as residency.
    /// </summary>
    [Alias("GetCachedShards")]
    Task<CachedShardPage> GetCachedShardsAsync(string bucket, string keyPrefix, int limit);
}

/// <summary>Cluster-wide view, for admins (a tenant with the admin grant on every bucket) and the admin API.</summary>
[Alias("OssOrleans.IClusterStatsGrain")]
public interface IClusterStatsGrain : IGrainWithIntegerKey
{
    [Alias("GetSilos")]
    Task<IReadOnlyList<SiloCacheStats>> GetSilosAsync();
}

/// <summary>
/// One part of a listing (<see cref="ListPartitionKey"/>; key: <see cref="ListPartitionKey.ToGrainKey"/>). A fast partition
/// lists its range and splits off child partitions when the range is large; a plain one pages through it sequentially.
/// </summary>
[Alias("OssOrleans.IListPartitionGrain")]
public interface IListPartitionGrain : IGrainWithStringKey
{
    /// <summary>
    /// The partition's listing: its own entries in key order, and the child partitions it split off, which the caller lists
    /// next (their ranges follow this partition's own entries). Served from the partition's cache while it is younger than
    /// the silo's list cache TTL.
    /// </summary>
    [Alias("List")]
    IAsyncEnumerable<ListChunk> ListAsync();
}

/// <summary>
/// One per silo, keyed by the silo's address and placed on it: hears of writes through the cluster, so this silo's list
/// partitions stop replaying a cached listing that a write changed. Silos only.
/// </summary>
[Alias("OssOrleans.IListWriteNoticeGrain")]
public interface IListWriteNoticeGrain : IGrainWithStringKey
{
    /// <summary>Keys of <paramref name="bucket"/> that were written or deleted (their listings changed).</summary>
    [Alias("NoteWrites")]
    Task NoteWritesAsync(string bucket, string[] keys);
}
