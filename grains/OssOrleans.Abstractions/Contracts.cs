namespace OssOrleans;

/// <summary>What the cluster knows of one object version.</summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.ObjectInfo")]
public sealed record ObjectInfo(
    [property: Id(0)] ObjectUri Uri,
    [property: Id(1)] long Size,
    [property: Id(2)] string ETag,
    [property: Id(3)] DateTimeOffset LastModified,
    [property: Id(4)] ulong? Crc64,
    [property: Id(5)] int ShardSize)
{
    public int ShardCount => Size == 0 ? 0 : (int)((Size + ShardSize - 1) / ShardSize);

    /// <summary>The Content-Type the origin gave, if any (the S3 gateway answers with it).</summary>
    [Id(6)]
    public string? ContentType { get; init; }

    public ShardId Shard(int index) => new(Uri, ETag, ShardSize, index);
}

/// <summary>
/// Where a loaded shard can be fetched: shard <see cref="Handle"/> on the data plane of silo <see cref="Silo"/>, whose base
/// URL is <see cref="DataPlane"/>, presenting <see cref="Token"/>, a short-lived capability the silo signed for this handle,
/// its own incarnation and the caller's tenant. <see cref="Crc64"/> is the CRC-64/XZ of the shard's bytes, computed by the
/// silo when it loaded them; the client checks what it receives against it. <see cref="Local"/>, when set, is the silo's
/// Unix socket for clients on its own machine.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.ShardLocation")]
public sealed record ShardLocation(
    [property: Id(0)] string DataPlane,
    [property: Id(1)] int Length,
    [property: Id(2)] ulong Crc64,
    [property: Id(3)] string Silo,
    [property: Id(4)] LocalEndpoint? Local,
    [property: Id(5)] long Handle,
    [property: Id(6)] string Token);

/// <summary>
/// A silo's Unix socket for same-machine clients (<see cref="Path"/>), and how a client knows the socket is really that
/// silo's: the silo's process id and the machine's boot id. A client uses it only when its own boot id is the same and the
/// peer at the other end of the socket is that process (SO_PEERCRED), so a socket file planted at the path by someone else,
/// or a path that only happens to exist here, is never used.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.LocalEndpoint")]
public sealed record LocalEndpoint(
    [property: Id(0)] string Path,
    [property: Id(1)] int ProcessId,
    [property: Id(2)] string BootId);

/// <summary>
/// Cache counters of one silo since it started. <see cref="AllocatedBytes"/> is the shard memory the silo holds: resident,
/// pooled for reuse (or pre-touched), being loaded, or evicted while still being sent.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.SiloCacheStats")]
public sealed record SiloCacheStats(
    [property: Id(0)] string Silo,
    [property: Id(1)] long CapacityBytes,
    [property: Id(2)] long UsedBytes,
    [property: Id(3)] int Shards,
    [property: Id(4)] long Hits,
    [property: Id(5)] long Misses,
    [property: Id(6)] long BytesServed,
    [property: Id(7)] long BytesFromOrigin,
    [property: Id(8)] long OriginRequests,
    [property: Id(9)] long Evictions,
    [property: Id(10)] long CrcFailures,
    [property: Id(11)] string DataPlaneUrl,
    [property: Id(12)] long BytesServedLocal = 0,
    [property: Id(13)] LocalEndpoint? DataPlaneLocal = null,
    [property: Id(14)] long AllocatedBytes = 0);

/// <summary>Raised to callers when the object changed at the origin while it was being read.</summary>
[GenerateSerializer, Alias("OssOrleans.ObjectChangedException")]
public sealed class ObjectChangedException : Exception
{
    public ObjectChangedException() { }
    public ObjectChangedException(string message) : base(message) { }
    public ObjectChangedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Raised to callers when the object does not exist at the origin.</summary>
[GenerateSerializer, Alias("OssOrleans.OssObjectNotFoundException")]
public sealed class OssObjectNotFoundException : Exception
{
    public OssObjectNotFoundException() { }
    public OssObjectNotFoundException(string message) : base(message) { }
    public OssObjectNotFoundException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Raised to callers when the origin failed (unreachable, or kept answering wrongly) after retries.</summary>
[GenerateSerializer, Alias("OssOrleans.OriginFailedException")]
public sealed class OriginFailedException : Exception
{
    public OriginFailedException() { }
    public OriginFailedException(string message) : base(message) { }
    public OriginFailedException(string message, Exception inner) : base(message, inner) { }
}
