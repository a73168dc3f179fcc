using Orleans.Concurrency;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// This silo's cache counters. Each silo activates its own at start-up and keeps it alive; placement by key puts it
/// on the silo its key names, and a call that lands elsewhere anyway is refused rather than reporting the wrong silo's numbers.
/// </summary>
[SiloKeyPlacement]
internal sealed class SiloStatsGrain(ShardStore store, CacheInstruments instruments, DataPlaneEndpoint endpoint, ILocalSiloDetails silo)
    : Grain, ISiloStatsGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        DelayDeactivation(TimeSpan.FromDays(365));
        return Task.CompletedTask;
    }

    public Task<SiloCacheStats> GetStatsAsync()
    {
        string me = silo.SiloAddress.ToParsableString();
        if (this.GetPrimaryKeyString() != me)
            throw new InvalidOperationException($"stats for silo {this.GetPrimaryKeyString()} were asked of silo {me}");
        return Task.FromResult(new SiloCacheStats(
            me, store.Capacity, store.UsedBytes, store.Count,
            instruments.Hits, instruments.Misses, instruments.BytesServed, instruments.BytesFromOrigin,
            instruments.OriginRequests, instruments.Evictions, instruments.CrcFailures, endpoint.Url ?? "",
            instruments.BytesServedLocal, endpoint.Local, store.AllocatedBytes));
    }

    /// <summary>At most this many shards per answer, so one admin query cannot build a huge message.</summary>
    public const int MaxCachedShards = 10_000;

    public Task<CachedShardPage> GetCachedShardsAsync(string bucket, string keyPrefix, int limit)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        string me = silo.SiloAddress.ToParsableString();
        if (this.GetPrimaryKeyString() != me)
            throw new InvalidOperationException($"shards of silo {this.GetPrimaryKeyString()} were asked of silo {me}");
        limit = Math.Clamp(limit, 1, MaxCachedShards);
        // Cheap suffix test on the raw grain key before parsing: the key ends with "{bucket}/{key}".
        string needle = "|" + bucket + "/" + keyPrefix;
        var (ids, truncated) = store.ResidentShards(id => id.Contains(needle, StringComparison.Ordinal) && Matches(id, bucket, keyPrefix), limit);
        var shards = new List<CachedShard>(ids.Count);
        foreach (var (id, length) in ids)
        {
            var s = ShardId.FromGrainKey(id);
            shards.Add(new CachedShard(s.Object.Bucket, s.Object.Key, s.ETag, s.Index, s.ShardSize, length));
        }
        return Task.FromResult(new CachedShardPage(me, shards, truncated));
    }

    private static bool Matches(string shardKey, string bucket, string keyPrefix)
    {
        var id = ShardId.FromGrainKey(shardKey);
        return id.Object.Bucket == bucket && id.Object.Key.StartsWith(keyPrefix, StringComparison.Ordinal);
    }
}

/// <summary>Gathers every active silo's counters.</summary>
[StatelessWorker]
internal sealed class ClusterStatsGrain : Grain, IClusterStatsGrain
{
    public async Task<IReadOnlyList<SiloCacheStats>> GetSilosAsync()
    {
        var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).ConfigureAwait(true);
        var stats = await Task.WhenAll(hosts.Keys.Select(h => GrainFactory.GetGrain<ISiloStatsGrain>(h.ToParsableString()).GetStatsAsync())).ConfigureAwait(true);
        return [.. stats.OrderBy(s => s.Silo, StringComparer.Ordinal)];
    }
}
