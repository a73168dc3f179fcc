using OssOrleans.Checksums;
using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Uploads;

/// <summary>
/// The write side of the data plane: <c>PUT /u?t={upload token}&amp;part={n}&amp;stage=1</c> receives one part of a
/// multipart upload, uploads it to the origin, and (write-through) keeps its bytes in the shard store, in shard-size pieces
/// from the part's start, under staging ids that belong to no object version yet. Everything but the part number comes
/// from the upload token, which the upload grain signed: the bucket, key, origin upload id, largest part and tenant. The token is checked
/// before anything is allocated; a tenant has at most <see cref="AuthOptions.MaxUploadsPerTenant"/> parts in flight on this
/// silo; the body must arrive within <see cref="BodyTimeout"/>. The answer (<see cref="PartAnswer"/>, JSON) is the part's
/// ETag and a signed receipt per staged shard.
/// </summary>
internal sealed partial class PartReceiver
{
    /// <summary>Largest part accepted (S3 allows 5 GiB; parts travel whole in memory here).</summary>
    public const long MaxPartSize = 1L << 30;

    /// <summary>How long a part's body may take to arrive (an 8 MiB part at 100 kB/s takes 80 s).</summary>
    public static readonly TimeSpan BodyTimeout = TimeSpan.FromMinutes(2);

    // A part waits this long for one of the silo's upload slots before the client is told to come back (503).
    private static readonly TimeSpan SlotWait = TimeSpan.FromSeconds(10);

    private readonly ShardStore _store;
    private readonly IObjectStore _origin;
    private readonly OriginGate _gate;
    private readonly ClusterKeys _keys;
    private readonly AuditLog _audit;
    private readonly DataPlaneEndpoint _endpoint;
    private readonly ILogger<PartReceiver> _logger;
    private readonly string _silo;
    private readonly int _shardSize;
    private readonly int _perTenant;
    // Parts being received at once; with the pool below this bounds the memory of uploads in flight on this silo.
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _tenantSlots = new(StringComparer.Ordinal);
    private readonly ArrayPool<byte> _parts;

    public PartReceiver(ShardStore store, IObjectStore origin, OriginGate gate, ClusterKeys keys, AuditLog audit, DataPlaneEndpoint endpoint,
        ILocalSiloDetails silo, IOptions<CacheOptions> options, IOptions<AuthOptions> auth, ILogger<PartReceiver> logger)
    {
        _silo = silo.SiloAddress.ToString();
        _store = store;
        _origin = origin;
        _gate = gate;
        _keys = keys;
        _audit = audit;
        _endpoint = endpoint;
        _logger = logger;
        _shardSize = options.Value.ShardSize;
        int concurrency = options.Value.MaxOriginConcurrency;
        _perTenant = auth.Value.MaxUploadsPerTenant > 0 ? auth.Value.MaxUploadsPerTenant : Math.Max(1, concurrency / 2);
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _parts = ArrayPool<byte>.Create((int)Math.Min(MaxPartSize, Array.MaxLength), concurrency);
    }

    /// <summary>
    /// The staging id of shard <paramref name="shardInPart"/> of part <paramref name="part"/> of an upload; it cannot collide with
    /// a shard id (those start with a digit).
    /// </summary>
    public static string StageId(string uploadId, int part, int shardInPart) => string.Create(CultureInfo.InvariantCulture, $"up|{uploadId}|{part}|{shardInPart}");

    public async Task HandleAsync(HttpContext context)
    {
        var q = context.Request.Query;
        if (!UploadTokens.TryRead(_keys, q["t"], DateTimeOffset.UtcNow, out var claims))
        {
            await PlainAsync(context, StatusCodes.Status403Forbidden, "a valid upload token (t) is required: start the upload through the upload grain").ConfigureAwait(false);
            return;
        }
        long length = context.Request.ContentLength ?? -1;
        if (!int.TryParse(q["part"], NumberStyles.None, CultureInfo.InvariantCulture, out int part) || part is < 1 or > 10_000
            || length < 0 || length > claims.PartSize)
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest, $"part (1-10000) and a Content-Length up to the session's part size ({claims.PartSize}) are required").ConfigureAwait(false);
            return;
        }
        bool stage = q["stage"] == "1";
        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
            bodySize.MaxRequestBodySize = length;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(BodyTimeout);
        try
        {
            using var slot = await TryEnterAsync(claims.Tenant, timeout.Token).ConfigureAwait(false);
            if (slot is null)
            {
                context.Response.Headers.RetryAfter = "1";
                await PlainAsync(context, StatusCodes.Status503ServiceUnavailable, $"this silo's upload slots (or tenant {claims.Tenant}'s share of them) are busy").ConfigureAwait(false);
                return;
            }
            PartAnswer answer;
            try
            {
                answer = await ReceiveAsync(claims, part, context.Request.Body, (int)length, stage, timeout.Token).ConfigureAwait(false);
            }
            catch (ObjectStoreException ex)
            {
                _audit.Write(claims.Tenant, "write", claims.Uri.ToString(), length, ex.GetType().Name);
                int status = ex is ObjectNotFoundException ? StatusCodes.Status404NotFound : StatusCodes.Status502BadGateway;
                await PlainAsync(context, status, $"uploading part {part} to the origin failed: {ex.Message}").ConfigureAwait(false);
                return;
            }
            _audit.Write(claims.Tenant, "write", claims.Uri.ToString(), length, "ok");
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(context.Response.Body, answer, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            _audit.Write(claims.Tenant, "write", claims.Uri.ToString(), 0, "timeout");
            await PlainAsync(context, StatusCodes.Status408RequestTimeout, $"the part's body did not arrive within {BodyTimeout.TotalSeconds:0} s").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One of this silo's upload slots for a part of <paramref name="tenant"/>, or null when the tenant has its share in
    /// flight already, or no slot frees within a few seconds. Dispose it when the part is done.
    /// </summary>
    public async Task<IDisposable?> TryEnterAsync(string tenant, CancellationToken cancellationToken)
    {
        var tenantSlots = _tenantSlots.GetOrAdd(tenant, _ => new SemaphoreSlim(_perTenant, _perTenant));
        if (!tenantSlots.Wait(0))
            return null;
        try
        {
            if (await _slots.WaitAsync(SlotWait, cancellationToken).ConfigureAwait(false))
                return new Slots(_slots, tenantSlots);
        }
        catch
        {
            tenantSlots.Release();
            throw;
        }
        tenantSlots.Release();
        return null;
    }

    private sealed class Slots(SemaphoreSlim silo, SemaphoreSlim tenant) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
                return;
            silo.Release();
            tenant.Release();
        }
    }

    /// <summary>
    /// Reads part <paramref name="part"/> (exactly <paramref name="length"/> bytes of <paramref name="body"/>), uploads it to
    /// the origin as that part of the session's upload and, with <paramref name="stage"/>, keeps its bytes staged with a
    /// signed receipt per shard-size piece. Hold a slot (<see cref="TryEnterAsync"/>) around it. Origin failures are
    /// <see cref="ObjectStoreException"/>s; nothing is staged then.
    /// </summary>
    public async Task<PartAnswer> ReceiveAsync(UploadClaims claims, int part, Stream body, int length, bool stage, CancellationToken cancellationToken)
    {
        if (length < 0 || length > claims.PartSize)
            throw new ArgumentOutOfRangeException(nameof(length), $"part {part} has {length} bytes; this upload takes parts of up to {claims.PartSize}");
        // A part of exactly one shard is read straight into a shard buffer, which the store keeps: no copy at all.
        bool direct = stage && length == _shardSize;
        byte[] buffer = direct ? _store.Rent(_shardSize) : _parts.Rent(Math.Max(length, 1));
        bool bufferKept = false;
        try
        {
            var bytes = buffer.AsMemory(0, length);
            await body.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);

            // Staged shards need their CRCs anyway; computed first, they also give the part's CRC to the origin store,
            // which checks parts by CRC where the origin reports one: one pass over the bytes instead of two.
            ShardCrcs[]? shardCrcs = null;
            ulong partCrc = 0;
            if (stage)
            {
                shardCrcs = new ShardCrcs[(length + _shardSize - 1) / _shardSize];
                for (int at = 0, i = 0; at < length; at += _shardSize, i++)
                {
                    int n = Math.Min(_shardSize, length - at);
                    shardCrcs[i] = ShardCrcs.Compute(buffer.AsSpan(at, n));
                    partCrc = i == 0 ? shardCrcs[i].Whole : Crc64Xz.Combine(partCrc, shardCrcs[i].Whole, n);
                }
            }

            UploadedPart uploaded;
            try
            {
                using (await _gate.EnterAsync(cancellationToken).ConfigureAwait(false))
                {
                    uploaded = shardCrcs is null
                        ? await _origin.UploadPartAsync(claims.Bucket, claims.Key, claims.UploadId, part, bytes, cancellationToken).ConfigureAwait(false)
                        : await _origin.UploadPartAsync(claims.Bucket, claims.Key, claims.UploadId, part, bytes, partCrc, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ObjectStoreException ex)
            {
                LogPartFailed(_logger, claims.Bucket, claims.Key, part, ex.GetType().Name, ex.Message);
                throw;
            }

            var receipts = new List<StagedShard>();
            if (stage)
            {
                string dataPlane = _endpoint.Url ?? "";
                for (int at = 0, i = 0; at < length; at += _shardSize, i++)
                {
                    int n = Math.Min(_shardSize, length - at);
                    byte[] shard;
                    if (direct)
                    {
                        shard = buffer;
                        bufferKept = true;
                    }
                    else
                    {
                        shard = _store.Rent(n);
                        buffer.AsSpan(at, n).CopyTo(shard);
                    }
                    var crcs = shardCrcs![i];
                    long handle = _store.Add(StageId(claims.UploadId, part, i), shard, n, crcs.Whole, crcs);
                    receipts.Add(StageReceipts.Sign(_keys, claims, i, _silo, dataPlane, handle, n, crcs.Whole, part, uploaded.ETag, length));
                }
            }
            return new PartAnswer(uploaded.ETag, _silo, [.. receipts]);
        }
        finally
        {
            if (!bufferKept)
            {
                if (direct)
                    _store.Return(buffer);
                else
                    _parts.Return(buffer);
            }
        }
    }

    private static Task PlainAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    [LoggerMessage(EventId = 2600, Level = LogLevel.Warning, Message = "Uploading part {Part} of {Bucket}/{Key} failed: {ErrorType}: {Error}")]
    private static partial void LogPartFailed(ILogger logger, string bucket, string key, int part, string errorType, string error);
}
