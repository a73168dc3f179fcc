using System.Buffers;
using System.Net;

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

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 64,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    { Timeout = TimeSpan.FromMinutes(2) };

    public async Task<ShardBuffer> FetchAsync(ObjectInfo info, int index, CancellationToken cancellationToken)
    {
        var shard = info.Shard(index);
        int expected = shard.LengthIn(info.Size);
        var grain = cluster.GetGrain<IShardGrain>(shard.ToGrainKey());
        var deadline = DateTime.UtcNow + ClusterFaultBudget;
        int misses = 0;
        for (int attempt = 1; ; attempt++)
        {
            byte[]? buffer = null;
            try
            {
                var location = await grain.EnsureLoadedAsync(info.Size).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (location.Length != expected)
                    throw new InvalidDataException($"shard {shard} has {location.Length} bytes; expected {expected}");
                buffer = _buffers.Rent(Math.Max(expected, 1));
                using var response = await _http.GetAsync(location.Url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    // Evicted (or dropped after a failed check) since the grain answered: ask again, which reloads it.
                    // The buffer goes back exactly once: a second return would hand one array to two readers.
                    _buffers.Return(buffer);
                    buffer = null;
                    if (++misses >= options.ShardAttempts)
                        throw new IOException($"shard {shard} was evicted {misses} times before it could be read; the cache is too small for this read-ahead");
                    continue;
                }
                response.EnsureSuccessStatusCode();
                if (response.Content.Headers.ContentLength != expected)
                    throw new IOException($"shard {shard}: data plane sent {response.Content.Headers.ContentLength} bytes, expected {expected}");
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    await body.ReadExactlyAsync(buffer.AsMemory(0, expected), cancellationToken).ConfigureAwait(false);
                }
                return new ShardBuffer(_buffers, buffer, expected);
            }
            catch (Exception ex) when (IsClusterFault(ex) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                if (buffer is not null)
                    _buffers.Return(buffer);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * attempt)), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                if (buffer is not null)
                    _buffers.Return(buffer);
                throw;
            }
        }
    }

    /// <summary>
    /// GETs several located shards of one silo in one request (<c>/m/h1,h2,...</c>), straight into
    /// <paramref name="targets"/> (each exactly its shard's length). False when any of them is gone (evicted).
    /// </summary>
    public async Task<bool> GetManyAsync(string baseUrl, IReadOnlyList<long> handles, IReadOnlyList<byte[]> targets, CancellationToken cancellationToken)
    {
        string url = baseUrl + "/m/" + string.Join(',', handles.Select(h => h.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
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

    public void Dispose() => _http.Dispose();
}
