using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

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
/// Fetches one shard: asks its grain to load it (once per cluster) and where it is, then GETs the bytes from that
/// silo's data plane. A shard evicted between the two steps, or a silo lost, is retried; origin errors are not
/// (the silo already retried the origin).
/// </summary>
internal sealed class ShardFetcher(IClusterClient cluster, OssClientOptions options) : IDisposable
{
    // The client's own pool of shard buffers: the shared pool keeps only a few arrays this large per core, and a
    // missed rent costs fresh pages (10% of a reader's CPU in the cold-read benchmark). It retains about two
    // read-ahead windows, which bounds its idle memory.
    private readonly ArrayPool<byte> _buffers = ArrayPool<byte>.Create(maxArrayLength: 64 << 20, maxArraysPerBucket: 2 * options.ReadAheadShards + 2);

    // Loss of a silo is only noticed after membership declares it dead, which takes seconds; keep trying that long.
    private static readonly TimeSpan ClusterFaultBudget = TimeSpan.FromSeconds(60);

    // A call whose silo is killed while it runs gets no answer, and Orleans would fail it only after its 30 s response
    // timeout. Waiting at most this long per attempt and asking again is safe: the shard grain is single-flight, so a
    // repeated call queues behind a load still in progress and returns as soon as it finishes.
    private static readonly TimeSpan LocateAttemptTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http = new(Handler(connect: null)) { Timeout = TimeSpan.FromMinutes(2) };

    // Reads from same-machine silos without HTTP (their raw local sockets).
    private readonly LocalShardReader _localReader = new();

    // Same-machine silos, over their Unix sockets. Connections are pooled by the URL's authority, which is unique per
    // silo, so every connection of a pool goes to the socket of the request that opened it.
    private readonly HttpClient _local = new(Handler(ConnectLocalSocketAsync)) { Timeout = TimeSpan.FromMinutes(2) };

    private static readonly HttpRequestOptionsKey<string> SocketOption = new("OssOrleans.LocalSocket");

    // Sockets that exist but could not be used (another user's, a stale file): TCP from then on.
    private readonly ConcurrentDictionary<string, bool> _unusableSockets = new(StringComparer.Ordinal);

    /// <summary>Shards beyond a stream's read-ahead that the cluster loads for it (<see cref="OssClientOptions.ClusterReadAheadShards"/>).</summary>
    public int ClusterReadAheadShards => options.ClusterReadAheadShards;

    /// <summary>
    /// Asks the cluster to load a shard from the origin (once per cluster, as for a fetch) without sending it here. Fire
    /// and forget: a failure is ignored, since the shard is loaded again, with its error reported, when it is read.
    /// </summary>
    public void Prefetch(ObjectInfo info, int index)
    {
        var grain = cluster.GetGrain<IShardGrain>(info.Shard(index).ToGrainKey());
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
    /// </summary>
    public async Task FetchSpanAsync(ObjectInfo info, int index, int offset, int length, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken)
    {
        var shard = info.Shard(index);
        int expected = shard.LengthIn(info.Size);
        if (offset < 0 || length < 0 || offset + length > expected)
            throw new ArgumentOutOfRangeException(nameof(length), $"bytes [{offset}, {offset + length}) are not within shard {shard} ({expected} bytes)");
        var grain = cluster.GetGrain<IShardGrain>(shard.ToGrainKey());
        var deadline = DateTime.UtcNow + ClusterFaultBudget;
        int misses = 0;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var location = await grain.EnsureLoadedAsync(info.Size).WaitAsync(LocateAttemptTimeout, cancellationToken).ConfigureAwait(false);
                if (location.Length != expected)
                    throw new InvalidDataException($"shard {shard} has {location.Length} bytes; expected {expected}");
                if (await TryReadLocalAsync(location, offset, length, consume, cancellationToken).ConfigureAwait(false) is bool found)
                {
                    if (found)
                        return;
                    if (++misses >= options.ShardAttempts)
                        throw new IOException($"shard {shard} was evicted {misses} times before it could be read; the cache is too small for this read-ahead");
                    continue;
                }
                string url = offset == 0 && length == expected
                    ? location.Url
                    : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{location.Url}?o={offset}&n={length}");
                using var response = await GetAsync(url, location.LocalSocket, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    // Evicted (or dropped after a failed check) since the grain answered: ask again, which reloads it.
                    if (++misses >= options.ShardAttempts)
                        throw new IOException($"shard {shard} was evicted {misses} times before it could be read; the cache is too small for this read-ahead");
                    continue;
                }
                response.EnsureSuccessStatusCode();
                if (response.Content.Headers.ContentLength != length)
                    throw new IOException($"shard {shard}: data plane sent {response.Content.Headers.ContentLength} bytes, expected {length}");
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    await consume(body, cancellationToken).ConfigureAwait(false);
                }
                return;
            }
            catch (Exception ex) when (IsClusterFault(ex) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * attempt)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // Over the silo's raw local socket when it is on this machine: true read, false no longer resident, null not possible
    // here (no usable socket), so the caller goes over HTTP.
    private async Task<bool?> TryReadLocalAsync(ShardLocation location, int offset, int length, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken)
    {
        if (!options.UseLocalSocket || _localReader.PathFor(location.LocalSocket) is not { } path || !TryParseShardUrl(location.Url, out _, out long handle))
            return null;
        try
        {
            return await _localReader.ReadAsync(path, new LocalShardReader.Item(handle, offset, length), consume, cancellationToken).ConfigureAwait(false);
        }
        catch (LocalSocketUnusableException)
        {
            return null;
        }
    }

    /// <summary>The data-plane handle at the end of a shard URL (<c>{silo}/s/{handle}</c>), and the silo's base URL before it.</summary>
    internal static bool TryParseShardUrl(string url, out string silo, out long handle)
    {
        int at = url.LastIndexOf("/s/", StringComparison.Ordinal);
        (silo, handle) = (at < 0 ? "" : url[..at], 0);
        return at >= 0 && long.TryParse(url.AsSpan(at + 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out handle);
    }

    private Task<HttpResponseMessage> GetAsync(string url, string? socket, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), socket, HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    /// <summary>
    /// Sends a request to a silo's data plane: over <paramref name="socket"/>, the silo's Unix socket, when it is on this
    /// machine and usable, else over TCP to the request's URL. <paramref name="create"/> may be called twice (a socket that
    /// turns out unusable falls back to TCP with a new request).
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string? socket, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        if (options.UseLocalSocket && socket is not null && !_unusableSockets.ContainsKey(socket) && File.Exists(socket))
        {
            using var request = create();
            request.Options.Set(SocketOption, socket);
            try
            {
                return await _local.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException)
            {
                _unusableSockets.TryAdd(socket, true);
            }
        }
        using var tcp = create();
        return await _http.SendAsync(tcp, completion, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<Stream> ConnectLocalSocketAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (!context.InitialRequestMessage.Options.TryGetValue(SocketOption, out var path))
            throw new InvalidOperationException("a local-socket request without its socket path");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.SendBufferSize = 2 << 20;
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static SocketsHttpHandler Handler(Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect) => new()
    {
        MaxConnectionsPerServer = 64,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ConnectCallback = connect,
    };

    /// <summary>
    /// GETs several located shards of one silo in one request (<c>/m/h1,h2,...</c>), straight into
    /// <paramref name="targets"/> (each exactly its shard's length). False when any of them is gone (evicted).
    /// </summary>
    public async Task<bool> GetManyAsync(string baseUrl, string? localSocket, IReadOnlyList<long> handles, IReadOnlyList<Memory<byte>> targets, CancellationToken cancellationToken)
    {
        if (options.UseLocalSocket && _localReader.PathFor(localSocket) is { } path)
        {
            try
            {
                return await _localReader.ReadAsync(path, [.. handles.Select((h, i) => new LocalShardReader.Item(h, 0, targets[i].Length))], targets, cancellationToken).ConfigureAwait(false);
            }
            catch (LocalSocketUnusableException)
            {
                // Over HTTP below.
            }
        }
        string url = baseUrl + "/m/" + string.Join(',', handles.Select(h => h.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var response = await GetAsync(url, localSocket, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return false;
        response.EnsureSuccessStatusCode();
        long expected = targets.Sum(t => (long)t.Length);
        if (response.Content.Headers.ContentLength != expected)
            throw new IOException($"{baseUrl}: data plane sent {response.Content.Headers.ContentLength} bytes for {handles.Count} shards, expected {expected}");
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            foreach (var target in targets)
                await body.ReadExactlyAsync(target, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    internal static bool IsClusterFaultException(Exception ex) => IsClusterFault(ex);

    // Faults of the cluster's machinery (a silo lost, a connection cut), as opposed to answers about the object.
    private static bool IsClusterFault(Exception ex) => ex is not (ObjectChangedException or OssObjectNotFoundException
        or OriginFailedException or OperationCanceledException or ArgumentException or InvalidDataException)
        && (ex is HttpRequestException or IOException or TimeoutException || ex.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true);

    public void Dispose()
    {
        _localReader.Dispose();
        _http.Dispose();
        _local.Dispose();
    }
}
