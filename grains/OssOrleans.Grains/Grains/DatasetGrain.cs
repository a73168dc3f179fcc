using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Hosting;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// The pinned item index of one dataset source, in memory. Not reentrant: every call is short, and running them one at a
/// time makes the lease and the append order trivially consistent.
/// </summary>
internal sealed partial class DatasetGrain(CacheClock clock, IOptions<CacheOptions> options, ILogger<DatasetGrain> logger) : Grain, IDatasetGrain
{
    // 10,000 records of a few hundred bytes at most: a page message stays around a few MiB, far below Orleans' 100 MiB limit.
    internal const int PageSize = 10_000;

    // One snapshot may not exceed this; a larger dataset should be split (or packed into tars) rather than pinned whole.
    internal const int MaxItems = 50_000_000;

    private readonly List<DatasetItemRecord> _items = [];
    private DatasetSnapshotInfo? _sealed;
    private string? _builder;
    private DateTimeOffset _leaseUntil;
    private TimeSpan _lease;

    public Task<DatasetOpenResult> OpenAsync(string builderId, int leaseSeconds)
    {
        ArgumentException.ThrowIfNullOrEmpty(builderId);
        int shardSize = options.Value.ShardSize;
        if (_sealed is not null)
            return Task.FromResult(new DatasetOpenResult(DatasetOpenState.Ready, _sealed, shardSize));
        var now = clock.Time.GetUtcNow();
        if (_builder is not null && _builder != builderId && now < _leaseUntil)
            return Task.FromResult(new DatasetOpenResult(DatasetOpenState.Wait, null, shardSize));
        if (_builder is not null && _builder != builderId)
            LogLeaseExpired(logger, this.GetPrimaryKeyString(), _builder);
        // A new builder (or the same one retrying) starts from nothing: a half-appended index is never sealed.
        _items.Clear();
        _builder = builderId;
        _lease = TimeSpan.FromSeconds(Math.Clamp(leaseSeconds, 5, 3600));
        _leaseUntil = now + _lease;
        return Task.FromResult(new DatasetOpenResult(DatasetOpenState.Build, null, shardSize));
    }

    public Task AppendAsync(string builderId, DatasetItemRecord[] items)
    {
        RequireLease(builderId);
        ArgumentNullException.ThrowIfNull(items);
        if (_items.Count + items.Length > MaxItems)
            throw new InvalidOperationException($"a dataset snapshot holds at most {MaxItems} items; split the source (or pack it into tars)");
        _items.AddRange(items);
        _leaseUntil = clock.Time.GetUtcNow() + _lease;
        return Task.CompletedTask;
    }

    public Task<DatasetSnapshotInfo> CompleteAsync(string builderId, string bucket, string? tarKey, string? tarETag, long tarSize, TimeSpan keepAlive)
    {
        if (_sealed is not null && _builder == builderId)
            return Task.FromResult(_sealed);
        RequireLease(builderId);
        _sealed = new DatasetSnapshotInfo(this.GetPrimaryKeyString(), bucket, _items.Count, PageSize, options.Value.ShardSize,
            clock.Time.GetUtcNow(), tarKey, tarETag, tarSize);
        // The snapshot lives only in this activation: keep it for the epochs that use it, then let it go.
        DelayDeactivation(keepAlive > TimeSpan.Zero ? keepAlive : TimeSpan.FromHours(2));
        LogSealed(logger, this.GetPrimaryKeyString(), _items.Count);
        return Task.FromResult(_sealed);
    }

    public Task AbandonAsync(string builderId)
    {
        if (_sealed is null && _builder == builderId)
        {
            _builder = null;
            _items.Clear();
        }
        return Task.CompletedTask;
    }

    public Task<DatasetItemRecord[]> GetPageAsync(int page)
    {
        var snapshot = _sealed ?? throw new InvalidOperationException($"dataset snapshot {this.GetPrimaryKeyString()} is not built yet");
        if (page < 0 || page >= snapshot.PageCount)
            throw new ArgumentOutOfRangeException(nameof(page), $"page {page} of a snapshot with {snapshot.PageCount} pages");
        int start = page * PageSize;
        return Task.FromResult(_items.GetRange(start, Math.Min(PageSize, _items.Count - start)).ToArray());
    }

    private void RequireLease(string builderId)
    {
        if (_sealed is not null)
            throw new InvalidOperationException($"dataset snapshot {this.GetPrimaryKeyString()} is already sealed");
        if (_builder != builderId)
            throw new InvalidOperationException($"dataset snapshot {this.GetPrimaryKeyString()}: the build lease belongs to another rank (it expired for this one)");
    }

    [LoggerMessage(EventId = 2500, Level = LogLevel.Warning, Message = "Dataset {Dataset}: the build lease of {Builder} expired; another rank builds it again")]
    private static partial void LogLeaseExpired(ILogger logger, string dataset, string builder);

    [LoggerMessage(EventId = 2501, Level = LogLevel.Information, Message = "Dataset {Dataset}: snapshot sealed with {Count} items")]
    private static partial void LogSealed(ILogger logger, string dataset, int count);
}
