using System.Buffers;
using OssOrleans.Checksums;
using OssOrleans.Client.Security;
using OssOrleans.Client.Transport;

namespace OssOrleans.Client;

/// <summary>A fetched shard in a pooled buffer; dispose it to give the buffer back.</summary>
internal sealed class ShardBuffer(ArrayPool<byte> pool, byte[] array, int length) : IDisposable
{
    private byte[]? _array = array;

    public int Length { get; } = length;

    public ReadOnlyMemory<byte> Memory => (_array ?? throw new ObjectDisposedException(nameof(ShardBuffer))).AsMemory(0, Length);

    public void Dispose()
    {
        var a = Interlocked.Exchange(ref _array, null);
        if (a is not null)
            pool.Return(a);
    }
}

/// <summary>
/// Fetches one shard: asks its grain to load it (once per cluster) and where it is, then reads the bytes from that
/// silo's data plane with the location's capability, over the first transport that reaches it (raw local socket, HTTP over
/// the Unix socket, TCP). Every byte is checked against the shard's CRC-64 before it is handed out. A shard evicted between
/// the two steps, a refused capability, or a silo lost, is retried; origin errors are not (the silo already retried the origin).
/// </summary>
internal sealed class ShardFetcher : IDisposable
{
    // Loss of a silo is only noticed after membership declares it dead, which takes seconds; keep trying that long.
    private static readonly TimeSpan ClusterFaultBudget = TimeSpan.FromSeconds(60);

    // A call whose silo is killed while it runs gets no answer, and Orleans would fail it only after its 30 s response
    // timeout. Waiting at most this long per attempt and asking again is safe: the shard grain is single-flight, so a
    // repeated call queues behind a load still in progress and returns as soon as it finishes.
    private static readonly TimeSpan LocateAttemptTimeout = TimeSpan.FromSeconds(10);

    // Reads whose bytes did not match the shard's CRC, before the read fails for good: a flipped bit on the way is worth
    // another try; bytes that keep failing are not the shard's.
    private const int MaxCorruptReads = 3;

    private readonly IClusterClient _cluster;
    private readonly OssClientOptions _options;

    // The client's own pool of shard buffers: the shared pool keeps only a few arrays this large per core, and a
    // missed rent costs fresh pages (10% of a reader's CPU in the cold-read benchmark). It retains about two
    // read-ahead windows, which bounds its idle memory.
    private readonly ArrayPool<byte> _buffers;
    private readonly RawSocketTransport _raw = new();
    private readonly IShardTransport[] _transports;

    public ShardFetcher(IClusterClient cluster, OssClientOptions options, ClientTls tls)
    {
        _cluster = cluster;
        _options = options;
        _buffers = ArrayPool<byte>.Create(maxArrayLength: 64 << 20, maxArraysPerBucket: 2 * options.ReadAheadShards + 2);
        Http = new DataPlaneHttp(tls);
        var tcp = new TcpHttpTransport(Http);
        _transports = options.UseLocalSocket ? [_raw, new UnixHttpTransport(Http), tcp] : [tcp];
    }

    /// <summary>The HTTP paths to the data planes (also for part uploads).</summary>
    public DataPlaneHttp Http { get; }

    /// <summary>Shards beyond a stream's read-ahead that the cluster loads for it (<see cref="OssClientOptions.ClusterReadAheadShards"/>).</summary>
    public int ClusterReadAheadShards => _options.ClusterReadAheadShards;

    /// <summary>
    /// Asks the cluster to load a shard from the origin (once per cluster, as for a fetch) without sending it here. Fire
    /// and forget: a failure is ignored, since the shard is loaded again, with its error reported, when it is read.
    /// </summary>
    public void Prefetch(ObjectInfo info, int index)
    {
        var grain = _cluster.GetGrain<IShardGrain>(info.Shard(index).ToGrainKey());
        _ = grain.EnsureLoadedAsync(info.Size).ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Fetches a whole shard into a pooled buffer.</summary>
    public async Task<ShardBuffer> FetchAsync(ObjectInfo info, int index, CancellationToken cancellationToken)
    {
        int expected = info.Shard(index).LengthIn(info.Size);
        byte[] buffer = _buffers.Rent(Math.Max(expected, 1));
        try
        {
            // A retry after a broken body reads the shard again into the same buffer.
            await FetchSpanAsync(info, index, 0, expected, (body, ct) => body.ReadExactlyAsync(buffer.AsMemory(0, expected), ct).AsTask(), cancellationToken).ConfigureAwait(false);
            return new ShardBuffer(_buffers, buffer, expected);
        }
        catch
        {
            _buffers.Return(buffer);
            throw;
        }
    }

    /// <summary>
    /// Fetches bytes [offset, offset + length) of a shard and hands the response body to <paramref name="consume"/>, which
    /// must read exactly <paramref name="length"/> bytes (straight into the caller's memory: no shard-sized buffer). The
    /// shard is loaded once per cluster as for a whole fetch; on a retry <paramref name="consume"/> runs again from the start.
    /// The call returns only once the bytes consumed have been checked against the shard's CRC-64; bytes that fail it are
    /// read again, and an <see cref="OssIntegrityException"/> ends a read whose bytes keep failing.
    /// </summary>
    public async Task FetchSpanAsync(ObjectInfo info, int index, int offset, int length, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken)
    {
        var shard = info.Shard(index);
        int expected = shard.LengthIn(info.Size);
        if (offset < 0 || length < 0 || offset + length > expected)
            throw new ArgumentOutOfRangeException(nameof(length), $"bytes [{offset}, {offset + length}) are not within shard {shard} ({expected} bytes)");
        var grain = _cluster.GetGrain<IShardGrain>(shard.ToGrainKey());
        var deadline = DateTime.UtcNow + ClusterFaultBudget;
        int misses = 0, corrupt = 0;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var location = await grain.EnsureLoadedAsync(info.Size).WaitAsync(LocateAttemptTimeout, cancellationToken).ConfigureAwait(false);
                if (location.Length != expected)
                    throw new OssIntegrityException($"shard {shard}: the cluster holds {location.Length} bytes for it, but the version has {expected} there");
                Crc64Stream? checkedBody = null;
                Func<Stream, CancellationToken, Task> reader = _options.VerifyCrc
                    ? (body, ct) => consume(checkedBody = new Crc64Stream(body), ct)
                    : consume;
                var read = await ReadAsync(location, offset, length, reader, cancellationToken).ConfigureAwait(false);
                if (read.Status == ReadStatus.Gone)
                {
                    // Evicted, dropped after a failed check, or the capability expired since the grain answered: ask again.
                    if (++misses >= _options.ShardAttempts)
                        throw new IOException($"shard {shard} was evicted {misses} times before it could be read; the cache is too small for this read-ahead");
                    continue;
                }
                if (checkedBody is null || Matches(location, offset, length, read, checkedBody))
                    return;
                if (++corrupt >= MaxCorruptReads)
                    throw new OssIntegrityException($"shard {shard}: {corrupt} reads from {location.DataPlane} did not match the shard's CRC-64 {location.Crc64:x16}");
            }
            catch (Exception ex) when (IsClusterFault(ex) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * attempt)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // The bytes read, with the CRCs the data plane gave of the shard's bytes before and after them, must add up to the
    // CRC the silo computed when it loaded the shard (which came through the grain, not with the bytes).
    private static bool Matches(ShardLocation location, int offset, int length, ShardRead read, Crc64Stream body)
    {
        if (body.BytesRead != length)
            return false;
        ulong upToEnd = Crc64Xz.Combine(read.Before, body.Crc, length);
        return Crc64Xz.Combine(upToEnd, read.After, location.Length - offset - length) == location.Crc64;
    }

    // The first transport that reaches the silo; TCP always does.
    private async Task<ShardRead> ReadAsync(ShardLocation location, int offset, int length, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken)
    {
        foreach (var transport in _transports)
        {
            if (!transport.CanReach(location))
                continue;
            var read = await transport.ReadAsync(location, offset, length, consume, cancellationToken).ConfigureAwait(false);
            if (read.Status != ReadStatus.Unusable)
                return read;
        }
        throw new IOException($"no way to reach the data plane at {location.DataPlane}");
    }

    /// <summary>
    /// Reads several located whole shards of one silo in one request, straight into <paramref name="targets"/> (each exactly
    /// its shard's length), each checked against its CRC-64. False when any of them is gone, refused, or does not match:
    /// the caller reads those through <see cref="FetchSpanAsync"/>.
    /// </summary>
    public async Task<bool> GetManyAsync(IReadOnlyList<ShardLocation> locations, IReadOnlyList<Memory<byte>> targets, CancellationToken cancellationToken)
    {
        foreach (var transport in _transports)
        {
            if (!transport.CanReach(locations[0]))
                continue;
            var status = await transport.ReadManyAsync(locations, targets, cancellationToken).ConfigureAwait(false);
            if (status == ReadStatus.Unusable)
                continue;
            if (status != ReadStatus.Ok)
                return false;
            if (_options.VerifyCrc)
            {
                for (int i = 0; i < targets.Count; i++)
                {
                    if (Crc64Xz.Compute(targets[i].Span) != locations[i].Crc64)
                        return false;
                }
            }
            return true;
        }
        return false;
    }

    internal static bool IsClusterFaultException(Exception ex) => IsClusterFault(ex);

    // Faults of the cluster's machinery (a silo lost, a connection cut), as opposed to answers about the object or refusals.
    private static bool IsClusterFault(Exception ex) => ex is not (ObjectChangedException or OssObjectNotFoundException
        or OriginFailedException or OperationCanceledException or ArgumentException or InvalidDataException
        or OssAccessDeniedException or OssIntegrityException)
        && (ex is HttpRequestException or IOException or TimeoutException || ex.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true);

    public void Dispose()
    {
        _raw.Dispose();
        Http.Dispose();
    }
}
