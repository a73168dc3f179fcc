namespace OssOrleans;

/// <summary>
/// One warm job (key: <see cref="TenantKeys.Owned"/> of the tenant that started it and the job id): lists a prefix at the origin in key order and prefetches every object into the cluster,
/// starting objects in that order. It reports its progress to the registry (<see cref="IWarmJobRegistryGrain"/>).
/// </summary>
[Alias("OssOrleans.IWarmJobGrain")]
public interface IWarmJobGrain : IGrainWithStringKey
{
    /// <summary>Starts the job unless it is already running or done (then this returns its progress).</summary>
    [Alias("Start")]
    Task<WarmJobProgress> StartAsync(ObjectUri prefix, int objectConcurrency);

    [Alias("GetProgress")]
    Task<WarmJobProgress> GetProgressAsync();

    /// <summary>Stops the job; objects already loaded stay in the cache.</summary>
    [Alias("Cancel")]
    Task<WarmJobProgress> CancelAsync();
}

/// <summary>The registry's side for jobs (same grain as <see cref="IWarmJobRegistryGrain"/>, key 0): jobs push their progress.</summary>
[Alias("OssOrleans.IWarmJobReportGrain")]
public interface IWarmJobReportGrain : IGrainWithIntegerKey
{
    [Alias("Report")]
    Task ReportAsync(WarmJobProgress progress);
}
