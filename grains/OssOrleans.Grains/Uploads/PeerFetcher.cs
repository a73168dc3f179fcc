using OssOrleans.Checksums;
using System.Globalization;
using System.Net;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.DataPlane;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Uploads;

/// <summary>
/// Copies a staged shard from the silo that staged it (write-through: the bytes are in the cluster already). The address
/// comes from the staging silo's own signed receipt, never from a client, and the request is signed as a silo's
/// (<see cref="SiloHttpAuth"/>), which is what the staging silo's data plane requires for staged shards.
/// </summary>
internal sealed class PeerFetcher(ShardStore store, ClusterKeys keys, DataPlaneClientFactory clients) : IDisposable
{
    // The whole copy, body included, must end within this: a peer that stalls must not hold a shard grain.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http = clients.Create(connectTimeout: TimeSpan.FromSeconds(2));

    /// <summary>A store buffer holding the staged bytes, checked against their length and CRC; null when they are gone.</summary>
    public async Task<byte[]?> TryFetchAsync(StagedShard staged, string stageId)
    {
        string path = string.Create(CultureInfo.InvariantCulture, $"/s/{staged.Handle}?stage={Uri.EscapeDataString(stageId)}");
        byte[] buffer = store.Rent(staged.Length);
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            using var request = Signed(HttpMethod.Get, staged.DataPlane, path);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentLength != staged.Length)
            {
                store.Return(buffer);
                return null;
            }
            var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
                await body.ReadExactlyAsync(buffer.AsMemory(0, staged.Length), timeout.Token).ConfigureAwait(false);
            if (Crc64Xz.Compute(buffer.AsSpan(0, staged.Length)) != staged.Crc64)
            {
                store.Return(buffer);
                return null;
            }
            // The staging silo need not keep its copy any more (best effort: it ages out of its cache otherwise).
            var drop = Signed(HttpMethod.Delete, staged.DataPlane, path);
            _ = _http.SendAsync(drop).ContinueWith(t =>
            {
                drop.Dispose();
                if (t.IsCompletedSuccessfully) t.Result.Dispose(); else _ = t.Exception;
            }, TaskScheduler.Default);
            return buffer;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            // The staging silo is gone or slow: the caller loads the shard from the origin instead.
            store.Return(buffer);
            return null;
        }
    }

    private HttpRequestMessage Signed(HttpMethod method, string dataPlane, string path)
    {
        var request = new HttpRequestMessage(method, dataPlane + path);
        request.Headers.TryAddWithoutValidation(SiloHttpAuth.Header, SiloHttpAuth.Sign(keys, method.Method, path, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        return request;
    }

    public void Dispose() => _http.Dispose();
}
