using Microsoft.Extensions.Options;

namespace OssOrleans.Grains.Hosting;

/// <summary>The silo's shard cache and data plane. Section <c>Cache</c>.</summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    /// <summary>Bytes of shard data this silo keeps in memory; the least recently used shards are evicted beyond it. Default 1 GiB.</summary>
    public long CapacityBytes { get; set; } = 1L << 30;

    /// <summary>Bytes per shard. Default 8 MiB: a 100 GiB model is about 12,800 shards, and one shard fetch at 100 MB/s spends 80 ms moving bytes for about 20 ms of first-byte latency.</summary>
    public int ShardSize { get; set; } = 8 << 20;

    /// <summary>How long object metadata (size, ETag) is trusted before the origin is asked again. Default 10 s.</summary>
    public TimeSpan MetadataTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Origin requests in flight at once from this silo. Default 16.</summary>
    public int MaxOriginConcurrency { get; set; } = 16;

    /// <summary>Shards one prefetch loads at once. Default 8.</summary>
    public int PrefetchConcurrency { get; set; } = 8;

    /// <summary>
    /// Allocate and touch shard buffers for the whole capacity in the background at start. Default false.
    /// The first write to a fresh memory page is expensive, most of all on virtual machines (measured here: page
    /// clearing took 40% of a silo's CPU during a cold read into an empty cache); pre-touching pays it once at start,
    /// like a JVM's AlwaysPreTouch, at the price of holding the capacity in memory from the start.
    /// </summary>
    public bool PretouchBuffers { get; set; }

    /// <summary>
    /// List requests (ListObjectsV2 pages and directory probes) in flight at once from this silo, over all listings.
    /// Default 64: with 20 ms pages about 3,000 pages (3 million keys) a second per silo, within the request rates S3 and
    /// OSS allow per prefix. The fast-list benchmark (one silo, 400,000 keys, quiet machine) measured 8x sequential
    /// paging at 16, 10.0-10.3x at 32 and 11.3x at 64: a fast list asks 10-30% more requests than it has pages (partition
    /// ends, probes), and on 2 cores the parsing competes with the requests' latency.
    /// </summary>
    public int MaxListConcurrency { get; set; } = 64;

    /// <summary>
    /// How long a list partition serves its last listing from memory before asking the origin again. Default 30 s;
    /// <see cref="TimeSpan.Zero"/> turns list caching off (every listing goes to the origin).
    /// </summary>
    public TimeSpan ListCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Listing entries this silo keeps cached, over all partitions. Entries are kept packed (keys share their prefix with
    /// the previous key): 10-40 bytes each for typical dataset keys, so the default 5,000,000 is about 50-200 MB. A
    /// partition whose listing goes beyond it stops caching (and streams as if the TTL were 0).
    /// </summary>
    public long ListCacheMaxEntries { get; set; } = 5_000_000;

    /// <summary>Keys asked for per list request (max-keys), 1 to 1000. Default 1000, the S3 and OSS maximum.</summary>
    public int ListPageSize { get; set; } = 1000;

    /// <summary>
    /// Where the data plane listens. Default <c>http://127.0.0.1:0</c> (loopback, any free port; clients learn it from the
    /// grains). <c>https://</c> serves it with the cluster's certificate (<c>Tls:*</c>).
    /// </summary>
    public string DataPlaneUrl { get; set; } = "http://127.0.0.1:0";

    /// <summary>Host name or address put in shard URLs given to clients. Default: the host of <see cref="DataPlaneUrl"/>.</summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>
    /// Also serve the data plane on a Unix domain socket in the temp folder, so clients on the same machine (that see the
    /// same temp folder) read shards without the loopback TCP stack, which costs about half as much CPU per byte here.
    /// Clients elsewhere, or that cannot open the socket, use <see cref="DataPlaneUrl"/>. Default true (not on Windows).
    /// </summary>
    public bool DataPlaneLocalSocket { get; set; } = !OperatingSystem.IsWindows();

    /// <summary>
    /// The group (name or number) whose members may use this silo's Unix sockets. Default none: the sockets are owner-only
    /// (0600, in a 0700 directory), so only processes of the silo's own user read over them; everyone else reads over TCP.
    /// </summary>
    public string? DataPlaneSocketGroup { get; set; }
}

internal sealed class CacheOptionsValidator : IValidateOptions<CacheOptions>
{
    public ValidateOptionsResult Validate(string? name, CacheOptions o)
    {
        const string s = CacheOptions.Section;
        if (o.ShardSize is < 64 * 1024 or > 64 << 20)
            return ValidateOptionsResult.Fail($"{s}:ShardSize: must be between 64 KiB and 64 MiB (got {o.ShardSize})");
        if (o.CapacityBytes < 2L * o.ShardSize)
            return ValidateOptionsResult.Fail($"{s}:CapacityBytes: must hold at least two shards ({2L * o.ShardSize} bytes; got {o.CapacityBytes})");
        if (o.MetadataTtl < TimeSpan.Zero)
            return ValidateOptionsResult.Fail($"{s}:MetadataTtl: must not be negative");
        if (o.MaxOriginConcurrency < 1)
            return ValidateOptionsResult.Fail($"{s}:MaxOriginConcurrency: must be at least 1 (got {o.MaxOriginConcurrency})");
        if (o.PrefetchConcurrency < 1)
            return ValidateOptionsResult.Fail($"{s}:PrefetchConcurrency: must be at least 1 (got {o.PrefetchConcurrency})");
        if (o.MaxListConcurrency < 1)
            return ValidateOptionsResult.Fail($"{s}:MaxListConcurrency: must be at least 1 (got {o.MaxListConcurrency})");
        if (o.ListCacheTtl < TimeSpan.Zero)
            return ValidateOptionsResult.Fail($"{s}:ListCacheTtl: must not be negative (got {o.ListCacheTtl})");
        if (o.ListCacheMaxEntries < 0)
            return ValidateOptionsResult.Fail($"{s}:ListCacheMaxEntries: must not be negative (got {o.ListCacheMaxEntries})");
        if (o.ListPageSize is < 1 or > 1000)
            return ValidateOptionsResult.Fail($"{s}:ListPageSize: must be between 1 and 1000 (got {o.ListPageSize})");
        if (!Uri.TryCreate(o.DataPlaneUrl, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
            return ValidateOptionsResult.Fail($"{s}:DataPlaneUrl: '{o.DataPlaneUrl}' is not an http(s) URL");
        return ValidateOptionsResult.Success;
    }
}
