using Orleans.Concurrency;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// This silo's cache counters. Each silo activates its own at start-up (prefer-local placement puts it there) and
/// keeps it alive; a call that lands on another silo is refused rather than reporting the wrong silo's numbers.
/// </summary>
[PreferLocalPlacement]
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
            instruments.BytesServedLocal));
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
