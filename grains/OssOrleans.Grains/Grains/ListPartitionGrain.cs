using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Listing;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// One partition of a listing (<see cref="ListPartitionKey"/>). The origin paging runs off the grain's scheduler in a
/// <see cref="ListRun"/>; each call reads that run. Within <see cref="CacheOptions.ListCacheTtl"/> callers share one run
/// (a second caller during or after the listing replays it: single flight and cache in one), so a repeated listing
/// asks the origin nothing. Reentrant because calls only read runs and never wait on one another.
/// </summary>
[Reentrant]
internal sealed class ListPartitionGrain(
    IObjectStore origin, ListGate gate, ListCacheBudget budget, CacheClock clock, ListWriteLog writes, IOptions<CacheOptions> options,
    ILogger<ListPartitionGrain> logger)
    : Grain, IListPartitionGrain
{
    private ListPartitionKey _key = null!;
    private ListRun? _run;
    // The last write through the cluster that the cached run had seen when it started (see ListWriteLog).
    private long _runWrites;
    private IGrainTimer? _expiry;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = ListPartitionKey.FromGrainKey(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _expiry?.Dispose();
        // Readers resume from where they were (see the client), so this is not the caller's error.
        _run?.Abort(new EnumerationAbortedException($"{_key}: the list partition was deactivated ({reason.Description})"));
        _run = null;
        return Task.CompletedTask;
    }

    public IAsyncEnumerable<ListChunk> ListAsync()
    {
        // A tenant that may list only part of this prefix gets its own filtered copy of the (shared) listing.
        var tenant = CallerContext.Tenant;
        var listing = List();
        if (tenant is null || tenant.VisibilityOf(_key.Bucket, _key.Prefix) == ListVisibility.Full)
            return listing;
        // Captured here: the filter reads children off this activation's scheduler.
        var grains = GrainFactory;
        return ListVisibilityFilter.FilterAsync(listing, tenant, _key, child => grains.GetGrain<IListPartitionGrain>(child.ToGrainKey()).ListAsync());
    }

    private IAsyncEnumerable<ListChunk> List()
    {
        var o = options.Value;
        var now = clock.Time.GetUtcNow();
        if (_run is { } cached && cached.IsReplayable && now - cached.StartedAt < o.ListCacheTtl && !writes.ChangedSince(_key, _runWrites)
            && cached.TryAttach(out var cursor))
            return cached.ReadAsync(cursor);

        _run?.Retire();
        long seen = writes.Version;
        bool cache = o.ListCacheTtl > TimeSpan.Zero;
        var run = new ListRun(cache, budget, ListSettings.Lookahead, now);
        run.TryAttach(out var first);
        var lister = new PartitionLister(origin, gate, new ListSettings(o.ListPageSize), logger);
        _ = Task.Run(() => lister.RunAsync(_key, run));
        if (cache)
        {
            _run = run;
            _runWrites = seen;
            ScheduleExpiry(o.ListCacheTtl);
        }
        return run.ReadAsync(first);
    }

    // Frees the cached listing once it is past its TTL and nobody is reading it (the TTL itself is judged by the cache
    // clock, which tests move; the timer only decides when to look).
    private void ScheduleExpiry(TimeSpan ttl)
    {
        _expiry?.Dispose();
        _expiry = this.RegisterGrainTimer(() =>
        {
            if (_run is { } run && clock.Time.GetUtcNow() - run.StartedAt >= ttl && run.Retire())
            {
                _run = null;
                _expiry?.Dispose();
                _expiry = null;
                DeactivateOnIdle();
            }
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions { DueTime = ttl, Period = ttl, Interleave = true, KeepAlive = false });
    }
}
