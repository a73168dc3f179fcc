using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Warming;

/// <summary>
/// Warms a prefix: pages through its listing at the origin (key order, as the OSS connector lists) and prefetches each
/// object into the cluster, starting objects in that order, a few at a time. Each object is prefetched in steps of a few
/// shards so progress moves smoothly on large files. Already cached shards are hits, so warming twice fetches nothing.
/// Reentrant so that progress and cancel calls are answered while the job awaits its prefetches.
/// </summary>
[Reentrant]
internal sealed partial class WarmJobGrain(IObjectStore origin, IOptions<CacheOptions> options, ILogger<WarmJobGrain> logger)
    : Grain, IWarmJobGrain
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(1);

    private ObjectUri _prefix;
    private WarmJobState _state = WarmJobState.Listing;
    private long _objectsDone, _objectsTotal, _bytesDone, _bytesTotal;
    private DateTimeOffset _startedAt;
    private readonly Stopwatch _elapsed = new();
    private TimeSpan _lastReport;
    private string? _error;
    private CancellationTokenSource? _cancel;
    private Task? _run;

    public Task<WarmJobProgress> StartAsync(ObjectUri prefix, int objectConcurrency)
    {
        if (_run is null)
        {
            _prefix = prefix;
            _startedAt = DateTimeOffset.UtcNow;
            _elapsed.Start();
            _cancel = new CancellationTokenSource();
            // The job runs without incoming calls for long stretches; keep the activation (and its progress) alive.
            DelayDeactivation(TimeSpan.FromDays(1));
            _run = RunAsync(Math.Clamp(objectConcurrency, 1, 64), _cancel.Token);
        }
        return Task.FromResult(Snapshot());
    }

    public async Task<WarmJobProgress> GetProgressAsync()
    {
        if (_run is not null)
            return Snapshot();
        // Not started here: this activation is new (the job's silo was lost, or the job ended long ago); the registry may know.
        string id = this.GetPrimaryKeyString();
        var known = await GrainFactory.GetGrain<IWarmJobRegistryGrain>(0).ListAsync().ConfigureAwait(true);
        return known.FirstOrDefault(p => p.JobId == id)
            ?? throw new KeyNotFoundException($"no warm job {id} is known to the cluster");
    }

    public async Task<WarmJobProgress> CancelAsync()
    {
        if (_run is null)
            return await GetProgressAsync().ConfigureAwait(true);
        await (_cancel?.CancelAsync() ?? Task.CompletedTask).ConfigureAwait(true);
        await _run.ConfigureAwait(true);
        return Snapshot();
    }

    private async Task RunAsync(int objectConcurrency, CancellationToken cancel)
    {
        await ReportAsync(force: true).ConfigureAwait(true);
        var queue = Channel.CreateBounded<ListEntry>(new BoundedChannelOptions(1000) { SingleWriter = true });
        // A failed worker stops the listing too (it could otherwise wait forever on a full queue).
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        try
        {
            var workers = Enumerable.Range(0, objectConcurrency).Select(async _ =>
            {
                try
                {
                    await WarmObjectsAsync(queue.Reader, failed.Token).ConfigureAwait(true);
                }
                catch
                {
                    await failed.CancelAsync().ConfigureAwait(true);
                    throw;
                }
            }).ToList();
            try
            {
                await ListAsync(queue.Writer, failed.Token).ConfigureAwait(true);
                _state = WarmJobState.Running;
                queue.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                queue.Writer.TryComplete(ex);
                throw;
            }
            finally
            {
                await Task.WhenAll(workers).ConfigureAwait(true);
            }
            _state = WarmJobState.Completed;
        }
        catch (Exception) when (cancel.IsCancellationRequested)
        {
            _state = WarmJobState.Cancelled;
        }
        catch (Exception ex)
        {
            _state = WarmJobState.Failed;
            _error = ex.Message;
            LogFailed(logger, this.GetPrimaryKeyString(), _prefix.ToString(), ex.Message);
        }
        _elapsed.Stop();
        await ReportAsync(force: true).ConfigureAwait(true);
    }

    private async Task ListAsync(ChannelWriter<ListEntry> writer, CancellationToken cancel)
    {
        string? token = null;
        do
        {
            ListPage page;
            try
            {
                page = await origin.ListPageAsync(new ListRequest(_prefix.Bucket, _prefix.Key) { ContinuationToken = token }, cancel).ConfigureAwait(true);
            }
            catch (ObjectStoreException ex)
            {
                throw OriginErrors.ToWire(ex, _prefix, "listing");
            }
            foreach (var entry in page.Entries)
            {
                _objectsTotal++;
                _bytesTotal += entry.Size;
                await writer.WriteAsync(entry, cancel).ConfigureAwait(true);
            }
            token = page.IsTruncated ? page.NextContinuationToken ?? throw new OriginFailedException($"listing {_prefix}: a truncated page without a continuation token") : null;
        }
        while (token is not null);
    }

    private async Task WarmObjectsAsync(ChannelReader<ListEntry> reader, CancellationToken cancel)
    {
        // A step is as many shards as one prefetch loads at once, twice over, so each call keeps the silos busy.
        long step = 2L * options.Value.PrefetchConcurrency * options.Value.ShardSize;
        await foreach (var entry in reader.ReadAllAsync(cancel).ConfigureAwait(true))
        {
            var uri = new ObjectUri(_prefix.Bucket, entry.Key);
            var grain = GrainFactory.GetGrain<IObjectGrain>(uri.ToGrainKey());
            try
            {
                // The version to warm is the current one (the listing may be a little older).
                var info = await grain.GetInfoAsync().ConfigureAwait(true);
                _bytesTotal += info.Size - entry.Size;
                for (long at = 0; at < info.Size; at += step)
                {
                    cancel.ThrowIfCancellationRequested();
                    long n = Math.Min(step, info.Size - at);
                    await grain.PrefetchAsync(info.ETag, at, n).ConfigureAwait(true);
                    _bytesDone += n;
                    await ReportAsync(force: false).ConfigureAwait(true);
                }
            }
            catch (OssObjectNotFoundException)
            {
                // Deleted since it was listed: nothing to warm.
                _bytesTotal -= entry.Size;
            }
            _objectsDone++;
        }
    }

    private async Task ReportAsync(bool force)
    {
        if (!force && _elapsed.Elapsed - _lastReport < ReportEvery)
            return;
        _lastReport = _elapsed.Elapsed;
        try
        {
            await GrainFactory.GetGrain<IWarmJobReportGrain>(0).ReportAsync(Snapshot()).ConfigureAwait(true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The registry is a view for operators; a lost report must not stop the job.
            LogReportFailed(logger, this.GetPrimaryKeyString(), ex.Message);
        }
    }

    private WarmJobProgress Snapshot()
    {
        double seconds = _elapsed.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? _bytesDone / seconds : 0;
        TimeSpan? eta = _state switch
        {
            WarmJobState.Running when rate > 0 => TimeSpan.FromSeconds((_bytesTotal - _bytesDone) / rate),
            WarmJobState.Completed => TimeSpan.Zero,
            _ => null,
        };
        return new WarmJobProgress(this.GetPrimaryKeyString(), _prefix.ToString(), _state, _objectsDone, _objectsTotal,
            _bytesDone, _bytesTotal, rate, eta, _startedAt, _error);
    }

    [LoggerMessage(EventId = 2700, Level = LogLevel.Warning, Message = "Warm job {JobId} of {Prefix} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string jobId, string prefix, string error);

    [LoggerMessage(EventId = 2701, Level = LogLevel.Debug, Message = "Warm job {JobId} could not report its progress: {Error}")]
    private static partial void LogReportFailed(ILogger logger, string jobId, string error);
}

/// <summary>
/// The cluster's list of warm jobs (key 0), newest first. Jobs push their progress about once a second and when they
/// end; finished jobs are kept for an hour (at most <see cref="MaxJobs"/> jobs in all). In memory: a new activation
/// after the loss of its silo starts empty and fills again from the jobs still running.
/// </summary>
internal sealed class WarmJobRegistryGrain : Grain, IWarmJobRegistryGrain, IWarmJobReportGrain
{
    private const int MaxJobs = 200;
    private static readonly TimeSpan KeepFinished = TimeSpan.FromHours(1);
    private readonly Dictionary<string, (WarmJobProgress Progress, DateTimeOffset Seen)> _jobs = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Finished jobs live only here; keep them through idle periods. Only the one registry: an activation of another key
        // (a refused call still activates its target) is let go as soon as it is idle.
        if (this.GetPrimaryKeyLong() == 0)
            DelayDeactivation(TimeSpan.FromDays(365));
        return Task.CompletedTask;
    }

    public Task ReportAsync(WarmJobProgress progress)
    {
        var now = DateTimeOffset.UtcNow;
        _jobs[progress.JobId] = (progress, now);
        foreach (var old in _jobs.Where(j => j.Value.Progress.IsFinished && now - j.Value.Seen > KeepFinished).Select(j => j.Key).ToList())
            _jobs.Remove(old);
        if (_jobs.Count > MaxJobs)
        {
            foreach (var old in _jobs.OrderBy(j => j.Value.Progress.IsFinished ? 0 : 1).ThenBy(j => j.Value.Progress.StartedAt).Take(_jobs.Count - MaxJobs).Select(j => j.Key).ToList())
                _jobs.Remove(old);
        }
        return Task.CompletedTask;
    }

    /// <summary>Silos and admins see every job; a tenant its own (job ids start with their tenant, see <see cref="TenantKeys"/>).</summary>
    public Task<IReadOnlyList<WarmJobProgress>> ListAsync()
    {
        var caller = CallerContext.Tenant;
        var visible = _jobs.Values.Select(j => j.Progress)
            .Where(p => caller is null || caller.IsClusterAdmin || (TenantKeys.TryGetOwner(p.JobId, out string owner) && owner == caller.Id));
        return Task.FromResult<IReadOnlyList<WarmJobProgress>>([.. visible.OrderByDescending(p => p.StartedAt)]);
    }
}
