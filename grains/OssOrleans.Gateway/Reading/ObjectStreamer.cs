using System.Buffers;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Checksums;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.DataPlane;

namespace OssOrleans.Gateway.Reading;

/// <summary>
/// Sends a byte range of one object version from the cluster's shards, in order, to a stream (a response body, or the
/// writer of a copy). Shards are located (loaded once per cluster) <see cref="GatewayOptions.ReadAheadShards"/> ahead of
/// the one being sent, and the cluster is asked to load <see cref="GatewayOptions.ClusterReadAheadShards"/> more beyond.
/// A shard this silo holds is sent straight from its memory (leased, so eviction waits); one held by another silo is read
/// from that silo's data plane in pieces of <see cref="GatewayOptions.RemoteReadBytes"/>, a few ahead. Every byte sent is
/// checked first against the CRC-64 the silo computed when it loaded the shard: for local shards the blocks under the range
/// are checked in place, for remote pieces the CRC of the bytes received is combined with the CRCs the peer gives of the
/// shard's bytes before and after them and compared with the shard's. The shard keys carry the ETag, so every byte comes
/// from the version <paramref name="info"/> names; a version gone from the origin mid-read fails the read, never mixes.
/// </summary>
internal sealed class ObjectStreamer : IDisposable
{
    // Kestrel copies one large write whole into fresh pipe blocks before sending (see DataPlaneServer.SendAsync). A slice is
    // also one CRC block (ShardCrcs.BlockSize), checked just before it is sent, while it is still in the CPU's cache for
    // Kestrel's copy: checking a 16 MiB range first and copying it after read it from memory twice.
    private const int SendSlice = ShardCrcs.BlockSize;

    // A shard evicted or refused between locating and reading is located again this many times before the read fails.
    private const int MaxRelocations = 4;

    // Bytes of one remote piece that failed their CRC check are read again at most this many times.
    private const int MaxCorruptReads = 3;

    private readonly IGrainFactory _grains;
    private readonly ShardStore _store;
    private readonly string _silo;
    private readonly HttpClient _http;
    private readonly GatewayOptions _options;
    private readonly ArrayPool<byte> _pieces;
    private readonly ILogger<ObjectStreamer> _logger;

    public ObjectStreamer(IGrainFactory grains, ShardStore store, ILocalSiloDetails silo, DataPlaneClientFactory clients, IOptions<GatewayOptions> options,
        ILogger<ObjectStreamer> logger)
    {
        _grains = grains;
        _store = store;
        _silo = silo.SiloAddress.ToString();
        _http = clients.Create(connectTimeout: TimeSpan.FromSeconds(5));
        _options = options.Value;
        _logger = logger;
        // Pieces for remote reads: a few per request in flight; the pool keeps some for reuse beyond that.
        _pieces = ArrayPool<byte>.Create(_options.RemoteReadBytes, maxArraysPerBucket: 64);
    }

    /// <summary>
    /// Writes bytes [start, start + length) of version <paramref name="info"/> to <paramref name="output"/>. A read of at
    /// least a shard is taken as one part of a download (boto3, the AWS CLI and TransferUtility read big objects in
    /// parallel ranges of 8-16 MiB, in order): the cluster is asked to load the shards after it too, up to
    /// <see cref="GatewayOptions.ClusterReadAheadShards"/> past the range, so the next parts are loading before they are asked for.
    /// </summary>
    public async Task CopyAsync(ObjectInfo info, long start, long length, Stream output, CancellationToken cancellationToken)
    {
        if (length <= 0)
            return;
        int first = (int)(start / info.ShardSize), last = (int)((start + length - 1) / info.ShardSize);
        int prefetchEnd = length >= info.ShardSize ? Math.Min(info.ShardCount - 1, last + _options.ClusterReadAheadShards) : last;
        var located = new Dictionary<int, Task<ShardLocation>>();
        int clusterAheadUpTo = -1;
        try
        {
            for (int i = first; i <= last; i++)
            {
                int windowEnd = Math.Min(last, i + _options.ReadAheadShards - 1);
                for (int j = i; j <= windowEnd; j++)
                {
                    if (!located.ContainsKey(j))
                        located[j] = LocateAsync(info, j);
                }
                var location = await located[i].WaitAsync(cancellationToken).ConfigureAwait(false);
                located.Remove(i);

                // Loads ahead are asked for once the shard being sent is there, not with it: started together, all loads
                // share the origin's bandwidth and finish together, and nothing could be sent while they run. After it,
                // the next shards load while this one is sent (measured in the gateway benchmark: boto3's 8 MiB parts).
                int far = Math.Min(prefetchEnd, windowEnd + _options.ClusterReadAheadShards);
                for (int j = Math.Max(windowEnd + 1, clusterAheadUpTo + 1); j <= far; j++)
                    Prefetch(info, j);
                clusterAheadUpTo = Math.Max(clusterAheadUpTo, far);
                long shardStart = (long)i * info.ShardSize;
                int offset = (int)Math.Max(0, start - shardStart);
                int end = (int)Math.Min(info.Shard(i).LengthIn(info.Size), start + length - shardStart);
                await SendShardAsync(info, i, location, offset, end - offset, output, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var pending in located.Values)
                Observe(pending);
        }
    }

    private Task<ShardLocation> LocateAsync(ObjectInfo info, int index) =>
        _grains.GetGrain<IShardGrain>(info.Shard(index).ToGrainKey()).EnsureLoadedAsync(info.Size);

    // Loads that outlive the read are cached for the next reader; their failures are reported when those shards are read.
    private void Prefetch(ObjectInfo info, int index) => Observe(LocateAsync(info, index));

    private static void Observe(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private async Task SendShardAsync(ObjectInfo info, int index, ShardLocation location, int offset, int count, Stream output, CancellationToken cancellationToken)
    {
        var shard = info.Shard(index);
        int expected = shard.LengthIn(info.Size);
        string shardKey = shard.ToGrainKey();
        int sent = 0;
        for (int relocations = 0; ; relocations++)
        {
            if (location.Length != expected)
                throw new OssIntegrityException($"shard {shard}: the cluster holds {location.Length} bytes for it, but the version has {expected} there");
            int done = location.Silo == _silo
                ? await SendLocalAsync(shardKey, location, offset + sent, count - sent, output, cancellationToken).ConfigureAwait(false)
                : await SendRemoteAsync(shard, location, offset + sent, count - sent, output, cancellationToken).ConfigureAwait(false);
            sent += done;
            if (sent == count)
                return;
            // Evicted, dropped after a failed check, or the capability expired: ask the shard grain again (it reloads the
            // same version's bytes, which the CRC of the new location covers).
            if (relocations == MaxRelocations)
                throw new IOException($"shard {shard} was evicted {relocations + 1} times while it was read; the cache is too small for the reads in flight");
            location = await LocateAsync(info, index).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends from this silo's shard store; returns the bytes sent (fewer than asked when the shard is gone or fails its check).</summary>
    private async Task<int> SendLocalAsync(string shardKey, ShardLocation location, int offset, int count, Stream output, CancellationToken cancellationToken)
    {
        if (!_store.TryLease(location.Handle, out var lease))
            return 0;
        using (lease)
        {
            // A handle names one entry for the silo's life, but a staged entry is renamed when it becomes a shard: the id,
            // and the CRC the grain gave, must be this shard's.
            if (lease.ShardId != shardKey || lease.Crc64 != location.Crc64)
                return 0;
            int sent = 0;
            while (sent < count)
            {
                // Up to the next block boundary of the shard, so each check reads exactly the block it sends.
                int at = offset + sent;
                int n = Math.Min(count - sent, SendSlice - at % SendSlice);
                if (!lease.Verify(at, n, out _, out _))
                {
                    // A flipped bit in memory: drop the shard, so the grain loads it again; the bytes sent so far were checked.
                    _store.Remove(lease.Handle);
                    GatewayLog.ShardMismatch(_logger, shardKey, _silo, 1);
                    return sent;
                }
                await output.WriteAsync(lease.Memory.Slice(at, n), cancellationToken).ConfigureAwait(false);
                sent += n;
            }
            return count;
        }
    }

    /// <summary>
    /// Reads from another silo's data plane in pieces, a few in flight, each checked before it is sent; returns the bytes
    /// sent (fewer than asked when the shard is gone there).
    /// </summary>
    private async Task<int> SendRemoteAsync(ShardId shard, ShardLocation location, int offset, int count, Stream output, CancellationToken cancellationToken)
    {
        int piece = _options.RemoteReadBytes;
        var pending = new Queue<Task<Piece?>>();
        int requested = 0, sent = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (sent < count)
            {
                while (pending.Count < _options.RemoteReadAhead && requested < count)
                {
                    int n = Math.Min(piece, count - requested);
                    pending.Enqueue(FetchPieceAsync(shard, location, offset + requested, n, stop.Token));
                    requested += n;
                }
                using var next = await pending.Dequeue().ConfigureAwait(false);
                if (next is null)
                    return sent;
                await output.WriteAsync(next.Memory, cancellationToken).ConfigureAwait(false);
                sent += next.Memory.Length;
            }
            return sent;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var task in pending)
                _ = task.ContinueWith(static t => { if (t.IsCompletedSuccessfully) t.Result?.Dispose(); else _ = t.Exception; }, TaskScheduler.Default);
        }
    }

    private async Task<Piece?> FetchPieceAsync(ShardId shard, ShardLocation location, int offset, int length, CancellationToken cancellationToken)
    {
        string url = string.Create(CultureInfo.InvariantCulture,
            $"{location.DataPlane}/s/{location.Handle}?t={Uri.EscapeDataString(location.Token)}&o={offset}&n={length}");
        for (int attempt = 1; ; attempt++)
        {
            byte[] buffer = _pieces.Rent(length);
            bool kept = false;
            try
            {
                using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                // Evicted (404) or a capability that expired or belongs to the silo's previous life (403): locate again.
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
                    return null;
                if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentLength != length
                    || !TryHeader(response, "x-crc64-before", out ulong before) || !TryHeader(response, "x-crc64-after", out ulong after))
                {
                    throw new IOException($"shard {shard}: the data plane at {location.DataPlane} answered {(int)response.StatusCode} without the bytes and CRCs asked for");
                }
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                    await body.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                ulong upToEnd = Crc64Xz.Combine(before, Crc64Xz.Compute(buffer.AsSpan(0, length)), length);
                if (Crc64Xz.Combine(upToEnd, after, location.Length - offset - length) == location.Crc64)
                {
                    kept = true;
                    return new Piece(_pieces, buffer, length);
                }
                GatewayLog.ShardMismatch(_logger, shard.ToString(), location.Silo, attempt);
                if (attempt >= MaxCorruptReads)
                    throw new OssIntegrityException($"shard {shard}: {attempt} reads from {location.DataPlane} did not match the shard's CRC-64 {location.Crc64:x16}");
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // The silo holding the shard went away or broke the connection: the shard grain is asked again (on another
                // silo once membership has noticed), and the pieces already sent stay sent.
                return null;
            }
            finally
            {
                if (!kept)
                    _pieces.Return(buffer);
            }
        }
    }

    private static bool TryHeader(HttpResponseMessage response, string name, out ulong value)
    {
        value = 0;
        return response.Headers.TryGetValues(name, out var values)
            && ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A checked piece of a remote shard in a pooled buffer.</summary>
    private sealed class Piece(ArrayPool<byte> pool, byte[] buffer, int length) : IDisposable
    {
        private byte[]? _buffer = buffer;

        public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(Piece))).AsMemory(0, length);

        public void Dispose()
        {
            var b = Interlocked.Exchange(ref _buffer, null);
            if (b is not null)
                pool.Return(b);
        }
    }
}
