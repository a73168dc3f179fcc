namespace OssOrleans;

/// <summary>
/// One multipart upload through the cluster (key: <see cref="TenantKeys.Owned"/> of the caller's tenant and a GUID). Parts
/// travel over HTTP to the silos' data planes, which upload them to the origin and keep their bytes staged for write-through.
/// Every call carries what it needs (the session, signed by the cluster, and the parts), so the session survives the loss of
/// the silo that hosted it.
/// </summary>
[Alias("OssOrleans.IUploadGrain")]
public interface IUploadGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the upload at the origin, in parts of about <paramref name="partSize"/> bytes: at least 5 MiB and rounded up to
    /// a multiple of the cluster's shard size (<see cref="UploadSession.PartSize"/> says what it became; every part but the
    /// last has exactly that size). Create-only fails at once with <see cref="OssObjectExistsException"/> when the object exists.
    /// </summary>
    [Alias("Start")]
    Task<UploadSession> StartAsync(ObjectUri uri, bool createOnly, int partSize);

    /// <summary>
    /// Completes the upload; the object becomes visible, whole. Then the staged shards become the cached shards of the new
    /// version, but only those whose receipt the cluster signed for exactly the parts completed (see the README), and the
    /// object's metadata is refreshed. Create-only is checked again here (see the README for the race).
    /// </summary>
    [Alias("Complete")]
    Task<ObjectInfo> CompleteAsync(UploadSession session, UploadedPartInfo[] parts, StagedShard[] staged);

    /// <summary>Aborts the upload at the origin (where the origin supports it); nothing becomes visible.</summary>
    [Alias("Abort")]
    Task AbortAsync(UploadSession session);
}

/// <summary>
/// Write-through: tells a shard of a new object version where its bytes already are (staged by the silo that uploaded the
/// part). Implemented by the shard grain, so the same key addresses the same activation as <see cref="IShardGrain"/>. Only
/// silos may call it: the upload grain, after checking the receipt. The shard grain then takes the bytes only from the
/// silo the receipt names, under the staging id it names, with the receipt's length and CRC-64.
/// </summary>
[Alias("OssOrleans.IShardSeedGrain")]
public interface IShardSeedGrain : IGrainWithStringKey
{
    [Alias("Seed")]
    Task SeedAsync(SeedOrder order);
}

/// <summary>
/// What the upload grain hands a shard grain after a completed upload: a checked receipt, the staging id the bytes are held
/// under on the staging silo, the size of the new version as the origin reported it, and which of its shards the bytes are.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.SeedOrder")]
public sealed record SeedOrder(
    [property: Id(0)] StagedShard Receipt,
    [property: Id(1)] string StageId,
    [property: Id(2)] long ObjectSize,
    [property: Id(3)] int ShardIndex);

/// <summary>
/// An upload in progress: the object, the origin's upload id, the cluster's shard size and the part size (the size of every
/// part but the last for this client's writer; the largest part the data planes take), the tenant that started it and when
/// the session expires, all signed by the cluster in <see cref="Token"/> (the data planes accept parts
/// only with it, and the upload grain completes or aborts only a session it signed). <see cref="Targets"/> are the silos'
/// data planes to send parts to.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.UploadSession")]
public sealed record UploadSession(
    [property: Id(0)] ObjectUri Uri,
    [property: Id(1)] string OriginUploadId,
    [property: Id(2)] int ShardSize,
    [property: Id(3)] bool CreateOnly,
    [property: Id(4)] int PartSize,
    [property: Id(5)] string Tenant,
    [property: Id(6)] DateTimeOffset ExpiresAt,
    [property: Id(7)] string Token,
    [property: Id(8)] UploadTarget[] Targets);

/// <summary>A silo's data plane that takes parts (<c>PUT /u</c>).</summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.UploadTarget")]
public sealed record UploadTarget(
    [property: Id(0)] string Silo,
    [property: Id(1)] string DataPlane,
    [property: Id(2)] LocalEndpoint? Local);

/// <summary>A part the origin accepted.</summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.UploadedPartInfo")]
public sealed record UploadedPartInfo(
    [property: Id(0)] int PartNumber,
    [property: Id(1)] string ETag,
    [property: Id(2)] long Size);

/// <summary>
/// A receipt for bytes of an object being written: silo <see cref="Silo"/> (data plane <see cref="DataPlane"/>) received
/// part <see cref="PartNumber"/> (<see cref="PartLength"/> bytes, which the origin accepted with ETag <see cref="PartETag"/>)
/// and holds its bytes [<see cref="ShardInPart"/> x shard size, + <see cref="Length"/>) under handle <see cref="Handle"/>.
/// <see cref="Mac"/> is the staging silo's signature over all of it with the cluster's secret: a client passes receipts
/// along but cannot make or change one. The bytes belong to no version until the upload completes; then the upload grain,
/// knowing every part's length, works out which shard of the object they are (if they line up with one).
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.StagedShard")]
public sealed record StagedShard(
    [property: Id(0)] int ShardInPart,
    [property: Id(1)] string Silo,
    [property: Id(2)] string DataPlane,
    [property: Id(3)] long Handle,
    [property: Id(4)] int Length,
    [property: Id(5)] ulong Crc64,
    [property: Id(6)] int PartNumber,
    [property: Id(7)] string PartETag,
    [property: Id(8)] long PartLength,
    [property: Id(9)] string Mac);

/// <summary>Raised to callers when a create-only write finds the object already there.</summary>
[GenerateSerializer, Alias("OssOrleans.OssObjectExistsException")]
public sealed class OssObjectExistsException : Exception
{
    public OssObjectExistsException() { }
    public OssObjectExistsException(string message) : base(message) { }
    public OssObjectExistsException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A data plane's answer to a part (<c>PUT /u</c>, as JSON): the part's ETag at the origin, the silo that took it, and a
/// signed receipt per staged shard (empty when the part was not staged).
/// </summary>
public sealed record PartAnswer(string ETag, string Silo, StagedShard[] Staged);
