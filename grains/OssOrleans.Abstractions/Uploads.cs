namespace OssOrleans;

/// <summary>
/// One multipart upload through the cluster (key: an upload id the client makes up, a GUID). Parts travel over HTTP to the
/// silos' data planes, which upload them to the origin and keep their bytes staged for write-through. Every call carries
/// what it needs (the origin's upload id, the parts), so the session survives the loss of the silo that hosted it.
/// </summary>
[Alias("OssOrleans.IUploadGrain")]
public interface IUploadGrain : IGrainWithStringKey
{
    /// <summary>Starts the upload at the origin. Create-only fails at once with <see cref="OssObjectExistsException"/> when the object exists.</summary>
    [Alias("Start")]
    Task<UploadSession> StartAsync(ObjectUri uri, bool createOnly);

    /// <summary>
    /// Completes the upload; the object becomes visible, whole. Then the staged shards become the cached shards of the new
    /// version, and the object's metadata is refreshed. Create-only is checked again here (see the README for the race).
    /// </summary>
    [Alias("Complete")]
    Task<ObjectInfo> CompleteAsync(UploadSession session, UploadedPartInfo[] parts, StagedShard[] staged);

    /// <summary>Aborts the upload at the origin (where the origin supports it); nothing becomes visible.</summary>
    [Alias("Abort")]
    Task AbortAsync(UploadSession session);
}

/// <summary>
/// Write-through: tells a shard of a new object version where its bytes already are (staged by the silo that uploaded the
/// part). Implemented by the shard grain, so the same key addresses the same activation as <see cref="IShardGrain"/>.
/// </summary>
[Alias("OssOrleans.IShardSeedGrain")]
public interface IShardSeedGrain : IGrainWithStringKey
{
    [Alias("Seed")]
    Task SeedAsync(StagedShard staged);
}

/// <summary>An upload in progress: the object, the origin's upload id and the cluster's shard size (parts are multiples of it).</summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.UploadSession")]
public sealed record UploadSession(
    [property: Id(0)] ObjectUri Uri,
    [property: Id(1)] string OriginUploadId,
    [property: Id(2)] int ShardSize,
    [property: Id(3)] bool CreateOnly);

/// <summary>A part the origin accepted.</summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.UploadedPartInfo")]
public sealed record UploadedPartInfo(
    [property: Id(0)] int PartNumber,
    [property: Id(1)] string ETag,
    [property: Id(2)] long Size);

/// <summary>
/// Bytes of shard <see cref="Index"/> of an object being written, held by silo <see cref="Silo"/> under data-plane handle
/// <see cref="Handle"/> (GET <see cref="Url"/>). They belong to no version until the upload completes.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.StagedShard")]
public sealed record StagedShard(
    [property: Id(0)] int Index,
    [property: Id(1)] string Silo,
    [property: Id(2)] string Url,
    [property: Id(3)] long Handle,
    [property: Id(4)] int Length,
    [property: Id(5)] ulong Crc64);

/// <summary>Raised to callers when a create-only write finds the object already there.</summary>
[GenerateSerializer, Alias("OssOrleans.OssObjectExistsException")]
public sealed class OssObjectExistsException : Exception
{
    public OssObjectExistsException() { }
    public OssObjectExistsException(string message) : base(message) { }
    public OssObjectExistsException(string message, Exception inner) : base(message, inner) { }
}
