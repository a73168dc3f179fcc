using System.Globalization;
using System.Net;

namespace OssOrleans.Client;

/// <summary>
/// Sends parts to the silos' data planes (PUT /u), spreading them over the silos by part number. A part whose silo fails
/// (lost, or a connection cut) is sent again to another silo: uploading a part number again replaces it at the origin.
/// </summary>
internal sealed class PartUploader(OssCacheClient client, UploadSession session, bool writeThrough)
{
    private const int MaxAttempts = 6;
    private readonly object _gate = new();
    private (string Url, string? Socket)[] _silos = [];
    private readonly HashSet<string> _bad = new(StringComparer.Ordinal);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var stats = await client.GetClusterStatsAsync(cancellationToken).ConfigureAwait(false);
        _silos = [.. stats.Where(s => s.DataPlaneUrl.Length > 0).Select(s => (s.DataPlaneUrl, s.DataPlaneLocalSocket))];
        if (_silos.Length == 0)
            throw new InvalidOperationException("no silo of the cluster has a data plane to upload to");
    }

    /// <summary>Uploads part <paramref name="partNumber"/> (bytes at <paramref name="offset"/> of the object) and returns it with its staged shards.</summary>
    public async Task<(UploadedPartInfo Part, StagedShard[] Staged)> SendAsync(int partNumber, long offset, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var uri = session.Uri;
        string query = string.Create(CultureInfo.InvariantCulture,
            $"/u?bucket={Uri.EscapeDataString(uri.Bucket)}&key={Uri.EscapeDataString(uri.Key)}&upload={Uri.EscapeDataString(session.OriginUploadId)}&part={partNumber}&offset={offset}&stage={(writeThrough ? 1 : 0)}");
        Exception? last = null;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (silo, socket) = Pick(partNumber + attempt);
            try
            {
                using var response = await client.Shards.SendAsync(
                    () => new HttpRequestMessage(HttpMethod.Put, silo + query) { Content = new ReadOnlyMemoryContent(bytes) },
                    socket, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                    return (new UploadedPartInfo(partNumber, Header(response, "x-part-etag"), bytes.Length), ParseStaged(silo, Header(response, "x-silo"), text));
                if (response.StatusCode == HttpStatusCode.NotFound)
                    throw new OriginFailedException($"uploading part {partNumber} of {uri}: the upload is gone at the origin ({text})");
                if ((int)response.StatusCode is >= 400 and < 500)
                    throw new InvalidOperationException($"uploading part {partNumber} of {uri}: {(int)response.StatusCode} {text}");
                // 502: the silo could not reach the origin even after its retries. Another silo may.
                last = new OriginFailedException($"uploading part {partNumber} of {uri} failed: {text}");
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The silo is gone or cut the connection; use the others from now on.
                last = ex;
                lock (_gate) _bad.Add(silo);
            }
            if (attempt >= 1)
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken).ConfigureAwait(false);
        }
        throw last is OriginFailedException ? last : new IOException($"uploading part {partNumber} of {uri} failed on every silo tried: {last?.Message}", last);
    }

    private (string Url, string? Socket) Pick(int n)
    {
        lock (_gate)
        {
            var good = _silos.Where(s => !_bad.Contains(s.Url)).ToArray();
            if (good.Length == 0)
            {
                // Every silo failed once: try them all again rather than give up (a connection cut is not a lost silo).
                _bad.Clear();
                good = _silos;
            }
            return good[(n & int.MaxValue) % good.Length];
        }
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : throw new InvalidDataException($"the data plane answered without {name}");

    private static StagedShard[] ParseStaged(string siloUrl, string silo, string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var staged = new StagedShard[lines.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            var f = lines[i].Split(' ');
            long handle = long.Parse(f[1], CultureInfo.InvariantCulture);
            staged[i] = new StagedShard(int.Parse(f[0], CultureInfo.InvariantCulture), silo, $"{siloUrl}/s/{handle}", handle,
                int.Parse(f[2], CultureInfo.InvariantCulture), ulong.Parse(f[3], CultureInfo.InvariantCulture));
        }
        return staged;
    }
}
