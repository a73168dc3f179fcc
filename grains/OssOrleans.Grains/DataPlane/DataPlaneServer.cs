using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.Grains.Uploads;

namespace OssOrleans.Grains.DataPlane;

/// <summary>
/// The bulk-byte path: a Kestrel server inside the silo that streams resident shards from memory to clients.
/// Grain calls say where a shard is; the bytes never travel through Orleans messages (see DESIGN.md section 2).
/// It is its own small web host so that it runs the same inside the silo executable and in in-process test clusters.
/// Every request proves its right first: a capability from a shard location (reads), an upload token (parts), or a
/// silo's signature (peer copies of staged shards, dropping them); nothing else is served.
/// </summary>
internal sealed partial class DataPlaneServer(
    ShardStore store,
    CacheInstruments instruments,
    DataPlaneEndpoint endpoint,
    PartReceiver parts,
    CapabilityIssuer capabilities,
    ClusterKeys keys,
    ClusterTls tls,
    TenantRegistry tenants,
    AuditLog audit,
    IOptions<CacheOptions> options,
    IOptions<AuthOptions> auth,
    ILogger<DataPlaneServer> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private string? _socket;
    private RawLocalServer? _raw;

    // Bytes of a batch request's body: 256 lines of a handle and a token fit many times over.
    private const int MaxBatchRequestBytes = 64 * 1024;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var o = options.Value;
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            _socket = o.DataPlaneLocalSocket ? LocalSocketDirectory.Create(o.DataPlaneSocketGroup) : null;
            // Kestrel takes a Unix socket as "http://unix:/path" beside the TCP address.
            builder.WebHost.UseUrls(_socket is null ? [o.DataPlaneUrl] : [o.DataPlaneUrl, "http://unix:" + _socket]);
            builder.WebHost.ConfigureKestrel(k =>
            {
                // Shards are written straight from their buffers; response buffering would add a copy.
                k.Limits.MaxResponseBufferSize = 1 << 20;
                // A hostile client must not hold connections or upload slots by going slowly.
                k.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 64 * 1024, gracePeriod: TimeSpan.FromSeconds(10));
                k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
                k.Limits.MaxConcurrentConnections = 8192;
                if (tls.Enabled)
                    k.ConfigureHttpsDefaults(h => h.ServerCertificate = tls.Certificate);
            });
            if (tls.Enabled)
                builder.WebHost.UseKestrelHttpsConfiguration();
            LargeBlockPoolFactory.Use(builder.WebHost, builder.Services);
            var app = builder.Build();
            app.MapGet("/s/{handle:long}", ServeShardAsync);
            app.MapPost("/m", ServeManyAsync);
            app.MapPut("/u", parts.HandleAsync);
            app.MapDelete("/s/{handle:long}", DropStagedAsync);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            _app = app;
            LocalEndpoint? local = null;
            if (_socket is not null)
            {
                LocalSocketDirectory.Protect(_socket, o.DataPlaneSocketGroup);
                // Reads for same-machine clients, without Kestrel's copy; started before the endpoint is advertised.
                _raw = new RawLocalServer(store, Verified, capabilities, instruments, Audit, logger);
                _raw.Start(LocalReadFrames.PathFor(_socket), o.DataPlaneSocketGroup);
                local = new LocalEndpoint(_socket, Environment.ProcessId, LocalMachine.BootId);
            }

            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            var bound = new Uri(addresses.First(a => !a.Contains("://unix:", StringComparison.Ordinal)));
            string host = o.AdvertisedHost ?? bound.Host;
            string url = $"{bound.Scheme}://{host}:{bound.Port}";
            endpoint.Set(url, local);
            LogListening(logger, url, _socket ?? "(none)");
            if (o.PretouchBuffers)
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
        var query = context.Request.Query;
        string? stage = query["stage"];
        ulong tenantTag = 0;
        if (stage is not null)
        {
            // A staged shard (no version yet) goes only to another silo adopting it.
            if (!IsSilo(context) || !store.TryGetId(handle, out string id) || id != stage)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }
        }
        else if (!capabilities.Verify(handle, query["t"].ToString(), out tenantTag))
        {
            // Wrong, forged, expired, or from this silo's previous life: the client asks its shard grain again.
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            audit.Write("(token)", "read", "handle", 0, "forbidden");
            return;
        }
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
            if (!Verified(lease, offset, length, out ulong before, out ulong after))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            context.Response.ContentLength = length;
            context.Response.ContentType = "application/octet-stream";
            var headers = context.Response.Headers;
            headers["x-shard-crc64"] = lease.Crc64.ToString(CultureInfo.InvariantCulture);
            headers["x-crc64-before"] = before.ToString(CultureInfo.InvariantCulture);
            headers["x-crc64-after"] = after.ToString(CultureInfo.InvariantCulture);
            await SendAsync(lease.Memory.Slice(offset, length), context).ConfigureAwait(false);
            Audit(tenantTag, lease, length);
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
        if (Verified(lease, 0, lease.Memory.Length, out _, out _))
            return true;
        lease.Dispose();
        lease = default;
        return false;
    }

    // A failed check drops the shard (the caller still holds its lease, so the buffer is freed when that ends).
    private bool Verified(ShardLease lease, int offset, int length, out ulong before, out ulong after)
    {
        if (lease.Verify(offset, length, out before, out after))
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

    /// <summary>
    /// Several small shards (dataset samples) in one response, concatenated in the order asked: one HTTP request per
    /// chunk instead of one per sample, which measured as the dominant cost of a cached epoch of 128 KiB samples. The body
    /// is a line per shard, "handle token". All or nothing: if any is gone (or fails its CRC check), 404, and if any token
    /// is refused, 403; either way the client asks the grains again.
    /// </summary>
    private async Task ServeManyAsync(HttpContext context)
    {
        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
            bodySize.MaxRequestBodySize = MaxBatchRequestBytes;
        string text;
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            text = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length is 0 or > MaxBatchHandles)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        var leases = new List<(ShardLease Lease, ulong Tag)>(lines.Length);
        try
        {
            long total = 0;
            foreach (var line in lines)
            {
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || !long.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out long handle))
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    return;
                }
                if (!capabilities.Verify(handle, line[(space + 1)..].TrimEnd('\r'), out ulong tag))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return;
                }
                if (!TryLeaseChecked(handle, out var lease))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                leases.Add((lease, tag));
                total += lease.Memory.Length;
            }
            context.Response.ContentLength = total;
            context.Response.ContentType = "application/octet-stream";
            // Small shards are written without a flush each and flushed every BatchFlushBytes: one send (and one wake-up of
            // the reader) per 64 samples of 128 KiB cost more than the bytes (a chunk is one response).
            var writer = context.Response.BodyWriter;
            long unflushed = 0;
            foreach (var (lease, tag) in leases)
            {
                var bytes = lease.Memory;
                Audit(tag, lease, bytes.Length);
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
            foreach (var (lease, _) in leases)
                lease.Dispose();
        }
    }

    // Most handles one batch request may name: a chunk of small dataset samples (about 64) fits several times over.
    internal const int MaxBatchHandles = 256;

    // After another silo copied a staged shard, it drops the staging copy here, so the bytes are held once. Silos only, and
    // only the handle that still holds that staged shard.
    private IResult DropStagedAsync(long handle, HttpContext context)
    {
        string? stage = context.Request.Query["stage"];
        if (stage is null || !IsSilo(context))
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        if (store.TryGetId(handle, out string id) && id == stage)
            store.Remove(handle);
        return Results.NoContent();
    }

    private bool IsSilo(HttpContext context) =>
        SiloHttpAuth.Verify(keys, context.Request.Headers[SiloHttpAuth.Header], context.Request.Method,
            context.Request.Path.Value + context.Request.QueryString.Value, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), auth.Value.ClockSkew);

    private void Audit(ulong tenantTag, ShardLease lease, long bytes)
    {
        if (!audit.Enabled)
            return;
        string uri = lease.ShardId.StartsWith("up|", StringComparison.Ordinal) ? "(staged)" : ShardId.FromGrainKey(lease.ShardId).Object.ToString();
        audit.Write(tenants.NameOfTag(tenantTag), "read", uri, bytes, "ok");
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
            LocalSocketDirectory.Delete(_socket);
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Data plane listening on {Url} and local socket {Socket}")]
    private static partial void LogListening(ILogger logger, string url, string socket);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "Shard handle {Handle} failed its CRC-64 check (shard CRC {Expected}); dropped")]
    private static partial void LogCrcMismatch(ILogger logger, long handle, ulong expected);
}
