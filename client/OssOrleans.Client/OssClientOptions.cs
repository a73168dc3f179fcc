namespace OssOrleans.Client;

/// <summary>Options of <see cref="OssCacheClient"/>.</summary>
public sealed class OssClientOptions
{
    /// <summary>Silo gateways to connect to, as <c>host:port</c>. Default <c>127.0.0.1:30000</c> (the embedded one-node cluster).</summary>
    public IList<string> Gateways { get; } = ["127.0.0.1:30000"];

    /// <summary>Orleans cluster id. Default <c>ossorleans</c>.</summary>
    public string ClusterId { get; set; } = "ossorleans";

    /// <summary>Orleans service id. Default <c>ossorleans</c>.</summary>
    public string ServiceId { get; set; } = "ossorleans";

    /// <summary>Shards a read stream fetches ahead of the reader. Default 4 (32 MiB with 8 MiB shards); memory per stream is this many shards.</summary>
    public int ReadAheadShards { get; set; } = 4;

    /// <summary>
    /// Shards beyond a read stream's own read-ahead that the cluster is asked to load from the origin, without sending them
    /// to this process. Default 16 (128 MiB of cluster cache per sequential reader, nothing here). A deep queue of
    /// loads keeps every origin connection busy (a shard of 8 MiB takes 100 ms at an OSS-like 100 MB/s per connection)
    /// while the client's memory stays at <see cref="ReadAheadShards"/> shards: measured on a cold 512 MiB read, a
    /// pipeline of 16 shards reached 0.75 of the origin's cap, 24 reached 0.9. Loads already asked for run to the end
    /// when the stream is closed early (they are cached for the next reader). 0 turns it off.
    /// </summary>
    public int ClusterReadAheadShards { get; set; } = 16;

    /// <summary>Bytes of each opened object the cluster prefetches, in open order. Default 64 MiB; 0 turns open-order prefetch off.</summary>
    public long OpenPrefetchBytes { get; set; } = 64L << 20;

    /// <summary>Attempts to fetch one shard (the shard may be evicted, or its silo lost, between locating and fetching it). Default 4.</summary>
    public int ShardAttempts { get; set; } = 4;

    /// <summary>
    /// Fetch shards held by a silo on this machine over its Unix domain socket (see the silo's
    /// <c>Cache:DataPlaneLocalSocket</c>) instead of loopback TCP: the same bytes for less CPU. Default true.
    /// </summary>
    public bool UseLocalSocket { get; set; } = true;

    internal void Validate()
    {
        if (Gateways.Count == 0)
            throw new ArgumentException("OssClientOptions.Gateways: at least one gateway (host:port) is required");
        if (ReadAheadShards < 1)
            throw new ArgumentException($"OssClientOptions.ReadAheadShards: must be at least 1 (got {ReadAheadShards})");
        if (ClusterReadAheadShards < 0)
            throw new ArgumentException($"OssClientOptions.ClusterReadAheadShards: must not be negative (got {ClusterReadAheadShards})");
        if (OpenPrefetchBytes < 0)
            throw new ArgumentException($"OssClientOptions.OpenPrefetchBytes: must not be negative (got {OpenPrefetchBytes})");
        if (ShardAttempts < 1)
            throw new ArgumentException($"OssClientOptions.ShardAttempts: must be at least 1 (got {ShardAttempts})");
    }
}
