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

    /// <summary>
    /// The access key id of the tenant this client acts as (the silo's <c>Auth:Tenants</c>). Default: the environment
    /// variable <c>OSSORLEANS_ACCESS_KEY_ID</c>, else <see cref="CredentialFile"/>; none at all is anonymous, which only a
    /// cluster without tenants (the embedded default) accepts.
    /// </summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The tenant's secret. Default: <c>OSSORLEANS_ACCESS_KEY_SECRET</c>. Only a key derived from it is kept; never logged.</summary>
    public string? AccessKeySecret { get; set; }

    /// <summary>
    /// A JSON file <c>{"AccessKeyId": ..., "AccessKeySecret": ...}</c> (the shape of the origin's credential file), read when
    /// no key is given otherwise. Default: <c>OSSORLEANS_CREDENTIAL_FILE</c>. Refused when other users may read it.
    /// </summary>
    public string? CredentialFile { get; set; }

    /// <summary>
    /// PEM file of the CA that signs the cluster's certificates: when set, the client talks TLS to the gateways and to
    /// https data planes, and trusts only certificates from this CA. Default: <c>OSSORLEANS_TLS_CA_FILE</c>.
    /// </summary>
    public string? TlsCaFile { get; set; }

    /// <summary>This client's certificate (PEM, or <c>.pfx</c>), for clusters that require one. Default: <c>OSSORLEANS_TLS_CERTIFICATE_FILE</c>.</summary>
    public string? TlsCertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="TlsCertificateFile"/> (owner-only). Default: <c>OSSORLEANS_TLS_KEY_FILE</c>.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>
    /// Check the CRC-64 of every shard or range received against the CRC the cluster computed when it loaded the shard,
    /// before any byte is handed out. Default true; turning it off is for measuring what the check costs.
    /// </summary>
    public bool VerifyCrc { get; set; } = true;

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
