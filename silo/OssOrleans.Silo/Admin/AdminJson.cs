using System.Text.Json.Serialization;

namespace OssOrleans.Silo.Admin;

// The admin API's JSON shapes (camelCase on the wire). Documented in the README's admin API reference.

internal sealed record ErrorJson(string Error);

/// <summary>Cache counters of one silo, or summed over the cluster.</summary>
internal sealed record Counters(
    long CapacityBytes, long UsedBytes, int Shards, long Hits, long Misses, long BytesServed,
    long BytesFromOrigin, long OriginRequests, long Evictions, long CrcFailures)
{
    public static readonly Counters Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Hits / (hits + misses) of shard lookups; 0 before the first lookup.</summary>
    public double HitRatio => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);

    public static Counters From(SiloCacheStats s) => new(
        s.CapacityBytes, s.UsedBytes, s.Shards, s.Hits, s.Misses, s.BytesServed, s.BytesFromOrigin, s.OriginRequests, s.Evictions, s.CrcFailures);

    public static Counters operator +(Counters a, Counters b) => new(
        a.CapacityBytes + b.CapacityBytes, a.UsedBytes + b.UsedBytes, a.Shards + b.Shards, a.Hits + b.Hits, a.Misses + b.Misses,
        a.BytesServed + b.BytesServed, a.BytesFromOrigin + b.BytesFromOrigin, a.OriginRequests + b.OriginRequests,
        a.Evictions + b.Evictions, a.CrcFailures + b.CrcFailures);
}

/// <summary>One member of the cluster; <see cref="Cache"/> is null unless it is active and answered.</summary>
internal sealed record SiloJson(
    string Address, string? Name, string? Host, string Status, DateTime StartTime, Counters? Cache, string? DataPlaneUrl, string? Error);

internal sealed record ClusterJson(
    string ClusterId, string ServiceId, string Mode, string Origin, int ActiveSilos, IReadOnlyList<SiloJson> Silos, Counters Totals, DateTimeOffset Time);

internal sealed record ShardJson(int Index, int Bytes, string Silo);

/// <summary>One cached object version: its resident shards, and how many of them each silo holds.</summary>
internal sealed record CachedObjectJson(
    string Uri, [property: JsonPropertyName("etag")] string ETag, int ShardSize, long CachedBytes, IReadOnlyList<ShardJson> Shards, IReadOnlyDictionary<string, int> ShardsPerSilo);

internal sealed record ObjectsJson(string Prefix, IReadOnlyList<CachedObjectJson> Objects, bool Truncated, IReadOnlyList<string> Errors);

internal sealed record ObjectLookupJson(
    string Uri, long Size, [property: JsonPropertyName("etag")] string ETag, DateTimeOffset LastModified, string? Crc64, int ShardSize, int ShardCount,
    CachedObjectJson Cached, IReadOnlyList<string> Errors);

internal sealed record JobJson(
    string JobId, string Prefix, string State, long ObjectsDone, long ObjectsTotal, long BytesDone, long BytesTotal,
    double BytesPerSecond, double? EtaSeconds, DateTimeOffset StartedAt, string? Error)
{
    public static JobJson From(WarmJobProgress p) => new(
        p.JobId, p.Prefix, p.State.ToString(), p.ObjectsDone, p.ObjectsTotal, p.BytesDone, p.BytesTotal,
        p.BytesPerSecond, p.Eta?.TotalSeconds, p.StartedAt, p.Error);
}

internal sealed record JobsJson(IReadOnlyList<JobJson> Jobs);
