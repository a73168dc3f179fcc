namespace OssOrleans;

/// <summary>Where a warm job is in its life.</summary>
[GenerateSerializer, Alias("OssOrleans.WarmJobState")]
public enum WarmJobState
{
    Listing,
    Running,
    Completed,
    Cancelled,
    Failed,
}

/// <summary>
/// Progress of one warm job (a prefix prefetched into the cluster), for the client, the CLI and the admin API.
/// <see cref="ObjectsTotal"/> and <see cref="BytesTotal"/> grow while the job is still listing.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.WarmJobProgress")]
public sealed record WarmJobProgress(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Prefix,
    [property: Id(2)] WarmJobState State,
    [property: Id(3)] long ObjectsDone,
    [property: Id(4)] long ObjectsTotal,
    [property: Id(5)] long BytesDone,
    [property: Id(6)] long BytesTotal,
    [property: Id(7)] double BytesPerSecond,
    [property: Id(8)] TimeSpan? Eta,
    [property: Id(9)] DateTimeOffset StartedAt,
    [property: Id(10)] string? Error)
{
    public bool IsFinished => State is WarmJobState.Completed or WarmJobState.Cancelled or WarmJobState.Failed;
}

/// <summary>
/// Every warm job the cluster knows, newest first (one registry per cluster, key 0; a tenant sees its own jobs, an admin all): what the admin API and the
/// dashboard show. Finished jobs are kept for a while so their outcome stays visible.
/// </summary>
[Alias("OssOrleans.IWarmJobRegistryGrain")]
public interface IWarmJobRegistryGrain : IGrainWithIntegerKey
{
    [Alias("List")]
    Task<IReadOnlyList<WarmJobProgress>> ListAsync();
}
