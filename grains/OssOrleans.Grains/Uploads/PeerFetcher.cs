using System.Net;
using OssOrleans.Grains.Cache;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Uploads;

/// <summary>Fetches a staged shard from another silo's data plane (write-through: the bytes are in the cluster already).</summary>
internal sealed class PeerFetcher(ShardStore store) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A store buffer holding the staged bytes, checked against their length and CRC; null when they are gone.</summary>
    public async Task<byte[]?> TryFetchAsync(StagedShard staged)
    {
        byte[] buffer = store.Rent(staged.Length);
        try
        {
            using var response = await _http.GetAsync(staged.Url, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentLength != staged.Length)
            {
                store.Return(buffer);
                return null;
            }
            var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
                await body.ReadExactlyAsync(buffer.AsMemory(0, staged.Length)).ConfigureAwait(false);
            if (Crc64Xz.Compute(buffer.AsSpan(0, staged.Length)) != staged.Crc64)
            {
                store.Return(buffer);
                return null;
            }
            // The staging silo need not keep its copy any more (best effort: it ages out of its cache otherwise).
            _ = _http.DeleteAsync(staged.Url).ContinueWith(static t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); else _ = t.Exception; }, TaskScheduler.Default);
            return buffer;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            // The staging silo is gone or slow: the caller loads the shard from the origin instead.
            store.Return(buffer);
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
