using System.Globalization;
using System.Net;
using System.Text;

namespace OssOrleans.Client.Transport;

/// <summary>
/// Shard reads over a data plane's HTTP API: <c>GET /s/{handle}?t={token}[&amp;o=&amp;n=]</c> for one shard or part of it,
/// <c>POST /m</c> (a line "handle token" per shard) for several whole shards. The two subclasses differ only in how they
/// reach the silo.
/// </summary>
internal abstract class HttpShardTransport : IShardTransport
{
    // A silo that stops sending mid-body is given this long per read; then the read fails like a lost silo.
    private static readonly TimeSpan BodyStallTimeout = TimeSpan.FromSeconds(30);

    public abstract bool CanReach(ShardLocation location);

    /// <summary>Sends a GET or POST for <paramref name="pathAndQuery"/> to the location's silo; null when this way turned out unusable.</summary>
    protected abstract Task<HttpResponseMessage?> SendAsync(ShardLocation location, HttpMethod method, string pathAndQuery, HttpContent? content, CancellationToken cancellationToken);

    public async Task<ShardRead> ReadAsync(ShardLocation location, int offset, int length, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken)
    {
        string path = string.Create(CultureInfo.InvariantCulture, $"/s/{location.Handle}?t={Uri.EscapeDataString(location.Token)}");
        if (offset != 0 || length != location.Length)
            path += string.Create(CultureInfo.InvariantCulture, $"&o={offset}&n={length}");
        using var response = await SendAsync(location, HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
        if (response is null)
            return new ShardRead(ReadStatus.Unusable);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            return new ShardRead(ReadStatus.Gone);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength != length)
            throw new IOException($"shard {location.Handle} at {location.DataPlane}: data plane sent {response.Content.Headers.ContentLength} bytes, expected {length}");
        ulong before = Header(response, "x-crc64-before"), after = Header(response, "x-crc64-after");
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await consume(new StallGuardStream(body, stall), stall.Token).ConfigureAwait(false);
        }
        return new ShardRead(ReadStatus.Ok, before, after);
    }

    public async Task<ReadStatus> ReadManyAsync(IReadOnlyList<ShardLocation> locations, IReadOnlyList<Memory<byte>> targets, CancellationToken cancellationToken)
    {
        var lines = new StringBuilder(locations.Count * 64);
        foreach (var l in locations)
            lines.Append(CultureInfo.InvariantCulture, $"{l.Handle} {l.Token}\n");
        using var content = new StringContent(lines.ToString(), Encoding.ASCII, "text/plain");
        using var response = await SendAsync(locations[0], HttpMethod.Post, "/m", content, cancellationToken).ConfigureAwait(false);
        if (response is null)
            return ReadStatus.Unusable;
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            return ReadStatus.Gone;
        response.EnsureSuccessStatusCode();
        long expected = targets.Sum(t => (long)t.Length);
        if (response.Content.Headers.ContentLength != expected)
            throw new IOException($"{locations[0].DataPlane}: data plane sent {response.Content.Headers.ContentLength} bytes for {locations.Count} shards, expected {expected}");
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var guarded = new StallGuardStream(body, stall);
            foreach (var target in targets)
                await guarded.ReadExactlyAsync(target, stall.Token).ConfigureAwait(false);
        }
        return ReadStatus.Ok;
    }

    private static ulong Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)
            ? v
            : throw new IOException($"the data plane answered without a valid {name} header");

    /// <summary>A body stream whose every read must bring bytes within <see cref="BodyStallTimeout"/> (the deadline moves on with each read).</summary>
    private sealed class StallGuardStream(Stream inner, CancellationTokenSource stall) : ReadOnlyStream
    {

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            stall.CancelAfter(BodyStallTimeout);
            try
            {
                return await inner.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && stall.IsCancellationRequested)
            {
                throw new IOException($"the data plane sent nothing for {BodyStallTimeout.TotalSeconds:0} s");
            }
        }
    }
}

/// <summary>HTTP over a same-machine silo's Unix socket (half the CPU per byte of loopback TCP here).</summary>
internal sealed class UnixHttpTransport(DataPlaneHttp http) : HttpShardTransport
{
    public override bool CanReach(ShardLocation location) => http.MayUseUnix(location.Local);

    protected override async Task<HttpResponseMessage?> SendAsync(ShardLocation location, HttpMethod method, string pathAndQuery, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, DataPlaneHttp.UnixUrl(location.DataPlane, pathAndQuery)) { Content = content };
        return await http.TrySendUnixAsync(request, location.Local!, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>HTTP over TCP to the silo's data plane URL (https when the cluster serves it so): works from anywhere.</summary>
internal sealed class TcpHttpTransport(DataPlaneHttp http) : HttpShardTransport
{
    public override bool CanReach(ShardLocation location) => true;

    protected override async Task<HttpResponseMessage?> SendAsync(ShardLocation location, HttpMethod method, string pathAndQuery, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, location.DataPlane + pathAndQuery) { Content = content };
        return await http.Tcp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }
}
