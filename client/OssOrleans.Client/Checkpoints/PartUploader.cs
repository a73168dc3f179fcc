using System.Globalization;
using System.Net;
using System.Text.Json;
using OssOrleans.Client.Transport;

namespace OssOrleans.Client;

/// <summary>
/// Sends parts to the silos' data planes (<c>PUT /u</c> with the session's upload token), spreading them over the session's
/// targets by part number. A part whose silo fails (lost, a connection cut) or is busy (503: its upload slots, or this
/// tenant's share of them, are taken) is sent again to another silo after a pause: uploading a part number again replaces
/// it at the origin.
/// </summary>
internal sealed class PartUploader(DataPlaneHttp http, UploadSession session, bool writeThrough)
{
    private const int MaxAttempts = 6;
    private readonly object _gate = new();
    private readonly HashSet<string> _bad = new(StringComparer.Ordinal);

    /// <summary>Uploads part <paramref name="partNumber"/> and returns it with the receipts for its staged shards.</summary>
    public async Task<(UploadedPartInfo Part, StagedShard[] Staged)> SendAsync(int partNumber, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var uri = session.Uri;
        string path = string.Create(CultureInfo.InvariantCulture,
            $"/u?t={Uri.EscapeDataString(session.Token)}&part={partNumber}&stage={(writeThrough ? 1 : 0)}");
        Exception? last = null;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var target = Pick(partNumber + attempt);
            try
            {
                using var response = await http.SendAsync(target.DataPlane, path, target.Local,
                    url => new HttpRequestMessage(HttpMethod.Put, url) { Content = new ReadOnlyMemoryContent(bytes) },
                    HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var answer = JsonSerializer.Deserialize<PartAnswer>(text)
                        ?? throw new InvalidDataException($"uploading part {partNumber} of {uri}: the data plane answered nothing");
                    return (new UploadedPartInfo(partNumber, answer.ETag, bytes.Length), answer.Staged ?? []);
                }
                if (response.StatusCode == HttpStatusCode.NotFound)
                    throw new OriginFailedException($"uploading part {partNumber} of {uri}: the upload is gone at the origin ({text})");
                if (response.StatusCode == HttpStatusCode.Forbidden)
                    throw new OssAccessDeniedException($"uploading part {partNumber} of {uri}: {text}");
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    last = new IOException($"uploading part {partNumber} of {uri}: {text}");
                else if ((int)response.StatusCode is >= 400 and < 500)
                    throw new InvalidOperationException($"uploading part {partNumber} of {uri}: {(int)response.StatusCode} {text}");
                else
                    // 502: the silo could not reach the origin even after its retries. Another silo may.
                    last = new OriginFailedException($"uploading part {partNumber} of {uri} failed: {text}");
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The silo is gone or cut the connection; use the others from now on.
                last = ex;
                lock (_gate) _bad.Add(target.DataPlane);
            }
            if (attempt >= 1)
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * attempt * attempt)), cancellationToken).ConfigureAwait(false);
        }
        throw last is OriginFailedException ? last : new IOException($"uploading part {partNumber} of {uri} failed on every silo tried: {last?.Message}", last);
    }

    private UploadTarget Pick(int n)
    {
        lock (_gate)
        {
            var good = session.Targets.Where(s => !_bad.Contains(s.DataPlane)).ToArray();
            if (good.Length == 0)
            {
                // Every silo failed once: try them all again rather than give up (a connection cut is not a lost silo).
                _bad.Clear();
                good = session.Targets;
            }
            return good[(n & int.MaxValue) % good.Length];
        }
    }
}
