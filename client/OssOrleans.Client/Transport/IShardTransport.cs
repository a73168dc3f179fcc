namespace OssOrleans.Client.Transport;

/// <summary>What became of a read from a data plane.</summary>
internal enum ReadStatus
{
    /// <summary>The bytes were read.</summary>
    Ok,

    /// <summary>The shard is gone (evicted, dropped after a failed check) or the capability was refused (expired): ask the grain again.</summary>
    Gone,

    /// <summary>This transport cannot reach that silo (a socket that is not the silo's, or cannot be connected to): use the next one.</summary>
    Unusable,
}

/// <summary>A read's status and, when the data plane sent part of a shard, the CRC-64s of the shard's bytes before and after that part.</summary>
internal readonly record struct ShardRead(ReadStatus Status, ulong Before = 0, ulong After = 0);

/// <summary>
/// One way of reading shards from a silo's data plane. The client has three, tried in this order for each location: the
/// raw local socket (<see cref="RawSocketTransport"/>), HTTP over the silo's Unix socket (<see cref="UnixHttpTransport"/>),
/// HTTP over TCP (<see cref="TcpHttpTransport"/>). Each presents the location's capability; none checks CRCs (the caller
/// does, end to end).
/// </summary>
internal interface IShardTransport
{
    /// <summary>Whether this transport may be tried for the silo of <paramref name="location"/> at all.</summary>
    bool CanReach(ShardLocation location);

    /// <summary>
    /// Reads bytes [offset, offset + length) of the located shard and hands a stream of exactly those bytes to
    /// <paramref name="consume"/>, which must read them all. A broken connection is an <see cref="IOException"/>.
    /// </summary>
    Task<ShardRead> ReadAsync(ShardLocation location, int offset, int length, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken);

    /// <summary>Reads several whole shards of one silo into <paramref name="targets"/> (each exactly its shard's length), in one request.</summary>
    Task<ReadStatus> ReadManyAsync(IReadOnlyList<ShardLocation> locations, IReadOnlyList<Memory<byte>> targets, CancellationToken cancellationToken);
}
