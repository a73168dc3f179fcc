namespace OssOrleans.Client;

/// <summary>Options of <see cref="OssCacheClient.WarmAsync(string, WarmOptions, CancellationToken)"/>.</summary>
public sealed class WarmOptions
{
    /// <summary>
    /// Objects warmed at once. They are started in key order; each is prefetched a few shards at a time by the silos
    /// (<c>Cache:PrefetchConcurrency</c>). Default 4; 1 warms strictly one object after the other.
    /// </summary>
    public int ObjectConcurrency { get; set; } = 4;

    internal void Validate()
    {
        if (ObjectConcurrency is < 1 or > 64)
            throw new ArgumentException($"WarmOptions.ObjectConcurrency: must be between 1 and 64 (got {ObjectConcurrency})");
    }
}

/// <summary>A warm job running in the cluster. The job goes on when this handle is dropped; only <see cref="CancelAsync"/> stops it.</summary>
public sealed class WarmJob
{
    private readonly IWarmJobGrain _grain;

    internal WarmJob(string jobId, IWarmJobGrain grain)
    {
        JobId = jobId;
        _grain = grain;
    }

    public string JobId { get; }

    /// <summary>Objects and bytes done and in all (the totals grow while the job is still listing), rate and ETA.</summary>
    public Task<WarmJobProgress> GetProgressAsync(CancellationToken cancellationToken = default) =>
        _grain.GetProgressAsync().WaitAsync(cancellationToken);

    /// <summary>Stops the job and returns its final progress (state Cancelled, or its outcome if it had ended already).</summary>
    public Task<WarmJobProgress> CancelAsync(CancellationToken cancellationToken = default) =>
        _grain.CancelAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Waits until the job ends, reporting its progress about every <paramref name="pollInterval"/> (default 250 ms), and
    /// returns the final progress. Throws <see cref="OriginFailedException"/> when the job failed. Cancelling the wait does
    /// not cancel the job.
    /// </summary>
    public async Task<WarmJobProgress> WaitAsync(IProgress<WarmJobProgress>? progress = null, CancellationToken cancellationToken = default, TimeSpan? pollInterval = null)
    {
        var interval = pollInterval ?? TimeSpan.FromMilliseconds(250);
        while (true)
        {
            var p = await GetProgressAsync(cancellationToken).ConfigureAwait(false);
            progress?.Report(p);
            if (p.State == WarmJobState.Failed)
                throw new OriginFailedException($"warm job {JobId} of {p.Prefix} failed: {p.Error}");
            if (p.IsFinished)
                return p;
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }
}
