using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Uploads;
using OssOrleans.Storage;

namespace OssOrleans.Grains.DataPlane;

/// <summary>
/// The bulk-byte path: a Kestrel server inside the silo that streams resident shards from memory to clients.
/// Grain calls say where a shard is; the bytes never travel through Orleans messages (see DESIGN.md section 2).
/// It is its own small web host so that it runs the same inside the silo executable and in in-process test clusters.
/// </summary>
internal sealed partial class DataPlaneServer(
    ShardStore store,
    CacheInstruments instruments,
    DataPlaneEndpoint endpoint,
    PartReceiver parts,
    IOptions<CacheOptions> options,
    ILogger<DataPlaneServer> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private string? _socket;
    private RawLocalServer? _raw;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            _socket = options.Value.DataPlaneLocalSocket ? LocalSocketPath() : null;
            // Kestrel takes a Unix socket as "http://unix:/path" beside the TCP address.
            builder.WebHost.UseUrls(_socket is null ? [options.Value.DataPlaneUrl] : [options.Value.DataPlaneUrl, "http://unix:" + _socket]);
            // Shards are written straight from their buffers; response buffering would add a copy.
            builder.WebHost.ConfigureKestrel(k => k.Limits.MaxResponseBufferSize = 1 << 20);
            LargeBlockPoolFactory.Use(builder.WebHost, builder.Services);
            var app = builder.Build();
            app.MapGet("/s/{handle:long}", ServeShardAsync);
            app.MapPut("/u", parts.HandleAsync);
            // A staged shard copied to the silo of its shard grain is dropped here, so it is held once.
            app.MapDelete("/s/{handle:long}", (long handle) => { store.Remove(handle); return Results.NoContent(); });
            app.MapGet("/m/{handles}", ServeManyAsync);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            _app = app;
            if (_socket is not null)
            {
                // Reads for same-machine clients, without Kestrel's copy; started before the endpoint is advertised.
                _raw = new RawLocalServer(store, Verified, instruments, logger);
                _raw.Start(LocalReadFrames.PathFor(_socket));
            }

            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            var bound = new Uri(addresses.First(a => !a.StartsWith("http://unix:", StringComparison.Ordinal)));
            string host = options.Value.AdvertisedHost ?? bound.Host;
            string url = $"http://{host}:{bound.Port}";
            endpoint.Set(url, _socket);
            LogListening(logger, url, _socket ?? "(none)");
            if (options.Value.PretouchBuffers)
                _ = Task.Run(() => store.Pretouch(_stopping.Token), CancellationToken.None);
        }
        catch (Exception ex)
        {
            endpoint.Fail(ex);
            throw;
        }
    }

    private async Task ServeShardAsync(long handle, HttpContext context)
    {
        if (!store.TryLease(handle, out var lease))
        {
            // Evicted, never here, or dropped after a failed check: the client asks the shard grain again, which reloads it.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        using (lease)
        {
            // Optional part of the shard, ?o=offset&n=length: a reader that needs a few members of a tar, or a small range,
            // gets only those bytes, and only the CRC blocks under them are checked.
            int offset = 0, length = lease.Memory.Length;
            var query = context.Request.Query;
            if (query.ContainsKey("o") || query.ContainsKey("n"))
            {
                if (!int.TryParse(query["o"], NumberStyles.None, CultureInfo.InvariantCulture, out offset)
                    || !int.TryParse(query["n"], NumberStyles.None, CultureInfo.InvariantCulture, out length)
                    || (long)offset + length > lease.Memory.Length)
                {
                    context.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    return;
                }
            }
            if (!Verified(lease, offset, length))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            context.Response.ContentLength = length;
            context.Response.ContentType = "application/octet-stream";
            context.Response.Headers["x-shard-crc64"] = lease.Crc64.ToString(CultureInfo.InvariantCulture);
            await SendAsync(lease.Memory.Slice(offset, length), context).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Leases a resident shard whose bytes still match their CRC-64. Checked on every serve: a flipped bit in memory
    /// becomes a miss and a metric, never wrong bytes.
    /// </summary>
    private bool TryLeaseChecked(long handle, out ShardLease lease)
    {
        if (!store.TryLease(handle, out lease))
            return false;
        if (Verified(lease, 0, lease.Memory.Length))
            return true;
        lease.Dispose();
        lease = default;
        return false;
    }

    // A failed check drops the shard (the caller still holds its lease, so the buffer is freed when that ends).
    private bool Verified(ShardLease lease, int offset, int length)
    {
        if (lease.Verify(offset, length))
            return true;
        instruments.CrcFailure();
        store.Remove(lease.Handle);
        LogCrcMismatch(logger, lease.Handle, lease.Crc64);
        return false;
    }

    private async Task SendAsync(ReadOnlyMemory<byte> bytes, HttpContext context)
    {
        // In slices: one 8 MiB write makes Kestrel copy it all into fresh pipe blocks before it sends anything
        // (page clearing showed up as 11% of a silo's CPU); slices of 256 KiB keep reusing the same few blocks.
        const int slice = 256 * 1024;
        for (int offset = 0; offset < bytes.Length; offset += slice)
            await context.Response.Body.WriteAsync(bytes.Slice(offset, Math.Min(slice, bytes.Length - offset)), context.RequestAborted).ConfigureAwait(false);
        // A Unix socket connection has no IP address.
        instruments.Served(bytes.Length, localSocket: context.Connection.RemoteIpAddress is null);
    }

    // Below Kestrel's response buffer limit (1 MiB, set at start), so a flush never waits on a full buffer it could drain.
    private const int BatchFlushBytes = 512 * 1024;

    // Most handles one batch request may name: a chunk of small dataset samples (about 64) fits several times over.
    internal const int MaxBatchHandles = 256;

    /// <summary>
    /// Several small shards (dataset samples) in one response, concatenated in the order asked: one HTTP request per
    /// chunk instead of one per sample, which measured as the dominant cost of a cached epoch of 128 KiB samples.
    /// All or nothing: if any is gone (or fails its CRC check), 404, and the client asks the grains again.
    /// </summary>
    private async Task ServeManyAsync(string handles, HttpContext context)
    {
        var parts = handles.Split(',');
        if (parts.Length is 0 or > MaxBatchHandles)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        var leases = new List<ShardLease>(parts.Length);
        try
        {
            long total = 0;
            foreach (var part in parts)
            {
                if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long handle))
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    return;
                }
                if (!TryLeaseChecked(handle, out var lease))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                leases.Add(lease);
                total += lease.Memory.Length;
            }
            context.Response.ContentLength = total;
            context.Response.ContentType = "application/octet-stream";
            // Small shards are written without a flush each and flushed every BatchFlushBytes: one send (and one wake-up of
            // the reader) per 64 samples of 128 KiB cost more than the bytes (a chunk is one response).
            var writer = context.Response.BodyWriter;
            long unflushed = 0;
            foreach (var lease in leases)
            {
                var bytes = lease.Memory;
                if (bytes.Length >= BatchFlushBytes)
                {
                    await SendAsync(bytes, context).ConfigureAwait(false);
                    continue;
                }
                writer.Write(bytes.Span);
                instruments.Served(bytes.Length, localSocket: context.Connection.RemoteIpAddress is null);
                unflushed += bytes.Length;
                if (unflushed >= BatchFlushBytes)
                {
                    await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                    unflushed = 0;
                }
            }
            if (unflushed > 0)
                await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            foreach (var lease in leases)
                lease.Dispose();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_raw is not null)
            await _raw.DisposeAsync().ConfigureAwait(false);
        if (_app is not null)
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        if (_raw is not null)
            await _raw.DisposeAsync().ConfigureAwait(false);
        if (_app is not null)
            await _app.DisposeAsync().ConfigureAwait(false);
        if (_socket is not null)
            File.Delete(_socket);
    }

    /// <summary>
    /// A socket path unique to this silo start, so a client that finds the file knows which silo answers on it; null when
    /// the temp folder's path is too long for a socket address (108 bytes on Linux).
    /// </summary>
    private static string? LocalSocketPath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ossorleans-dataplane-{Guid.NewGuid():N}.sock");
        return path.Length < 100 ? path : null;
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Data plane listening on {Url} and local socket {Socket}")]
    private static partial void LogListening(ILogger logger, string url, string socket);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "Shard handle {Handle} failed its CRC-64 check (shard CRC {Expected}); dropped")]
    private static partial void LogCrcMismatch(ILogger logger, long handle, ulong expected);
}
