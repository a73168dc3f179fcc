using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Uploads;

/// <summary>
/// The write side of the data plane: <c>PUT /u?bucket=&amp;key=&amp;upload=&amp;part=&amp;offset=&amp;stage=</c> receives one part of a
/// multipart upload, uploads it to the origin, and (write-through) keeps its bytes in the shard store under staging ids
/// that belong to no object version yet. The answer is the part's ETag (header <c>x-part-etag</c>) and one line per
/// staged shard: "index handle length crc64".
/// </summary>
internal sealed partial class PartReceiver
{
    /// <summary>Largest part accepted (S3 allows 5 GiB; parts travel whole in memory here).</summary>
    public const long MaxPartSize = 1L << 30;

    private readonly ShardStore _store;
    private readonly IObjectStore _origin;
    private readonly OriginGate _gate;
    private readonly ILogger<PartReceiver> _logger;
    private readonly string _silo;
    private readonly int _shardSize;
    // Parts being received at once; with the pool below this bounds the memory of uploads in flight on this silo.
    private readonly SemaphoreSlim _slots;
    private readonly ArrayPool<byte> _parts;

    public PartReceiver(ShardStore store, IObjectStore origin, OriginGate gate, ILocalSiloDetails silo, IOptions<CacheOptions> options, ILogger<PartReceiver> logger)
    {
        _silo = silo.SiloAddress.ToString();
        _store = store;
        _origin = origin;
        _gate = gate;
        _logger = logger;
        _shardSize = options.Value.ShardSize;
        int concurrency = options.Value.MaxOriginConcurrency;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _parts = ArrayPool<byte>.Create((int)Math.Min(MaxPartSize, Array.MaxLength), concurrency);
    }

    /// <summary>The staging id of shard <paramref name="index"/> of an upload; it cannot collide with a shard id (those start with a digit).</summary>
    public static string StageId(string uploadId, long index) => string.Create(CultureInfo.InvariantCulture, $"up|{uploadId}|{index}");

    public async Task HandleAsync(HttpContext context)
    {
        var q = context.Request.Query;
        string? bucket = q["bucket"], key = q["key"], upload = q["upload"];
        long length = context.Request.ContentLength ?? -1;
        if (bucket is null || key is null || upload is null
            || !int.TryParse(q["part"], NumberStyles.None, CultureInfo.InvariantCulture, out int part) || part is < 1 or > 10_000
            || !long.TryParse(q["offset"], NumberStyles.None, CultureInfo.InvariantCulture, out long offset)
            || length is < 0 or > MaxPartSize)
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest, "bucket, key, upload, part (1-10000), offset and a Content-Length up to 1 GiB are required").ConfigureAwait(false);
            return;
        }
        bool stage = q["stage"] == "1";
        if (stage && offset % _shardSize != 0)
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest, $"part offset {offset} is not a multiple of the shard size {_shardSize}").ConfigureAwait(false);
            return;
        }
        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
            bodySize.MaxRequestBodySize = length;

        var aborted = context.RequestAborted;
        await _slots.WaitAsync(aborted).ConfigureAwait(false);
        // A part of exactly one shard is read straight into a shard buffer, which the store keeps: no copy at all.
        bool direct = stage && length == _shardSize;
        byte[] buffer = direct ? _store.Rent(_shardSize) : _parts.Rent((int)Math.Max(length, 1));
        bool bufferKept = false;
        try
        {
            var bytes = buffer.AsMemory(0, (int)length);
            await context.Request.Body.ReadExactlyAsync(bytes, aborted).ConfigureAwait(false);

            // Staged shards need their CRCs anyway; computed first, they also give the part's CRC to the origin store,
            // which checks parts by CRC where the origin reports one: one pass over the bytes instead of two.
            ulong[]? shardCrcs = null;
            ulong partCrc = 0;
            if (stage)
            {
                shardCrcs = new ulong[(int)((length + _shardSize - 1) / _shardSize)];
                for (int at = 0, i = 0; at < length; at += _shardSize, i++)
                {
                    int n = (int)Math.Min(_shardSize, length - at);
                    shardCrcs[i] = Crc64Xz.Compute(buffer.AsSpan(at, n));
                    partCrc = i == 0 ? shardCrcs[i] : Crc64Xz.Combine(partCrc, shardCrcs[i], n);
                }
            }

            UploadedPart uploaded;
            try
            {
                using (await _gate.EnterAsync(aborted).ConfigureAwait(false))
                {
                    uploaded = shardCrcs is null
                        ? await _origin.UploadPartAsync(bucket, key, upload, part, bytes, aborted).ConfigureAwait(false)
                        : await _origin.UploadPartAsync(bucket, key, upload, part, bytes, partCrc, aborted).ConfigureAwait(false);
                }
            }
            catch (ObjectStoreException ex)
            {
                LogPartFailed(_logger, bucket, key, part, ex.GetType().Name, ex.Message);
                int status = ex is ObjectNotFoundException ? StatusCodes.Status404NotFound : StatusCodes.Status502BadGateway;
                await PlainAsync(context, status, $"uploading part {part} to the origin failed: {ex.Message}").ConfigureAwait(false);
                return;
            }

            var lines = new StringBuilder();
            if (stage)
            {
                long first = offset / _shardSize;
                for (int at = 0, i = 0; at < length; at += _shardSize, i++)
                {
                    int n = (int)Math.Min(_shardSize, length - at);
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
                    ulong crc = shardCrcs![i];
                    long handle = _store.Add(StageId(upload, first + i), shard, n, crc);
                    lines.Append(CultureInfo.InvariantCulture, $"{first + i} {handle} {n} {crc}\n");
                }
            }
            context.Response.Headers["x-part-etag"] = uploaded.ETag;
            context.Response.Headers["x-silo"] = _silo;
            await PlainAsync(context, StatusCodes.Status200OK, lines.ToString()).ConfigureAwait(false);
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
            _slots.Release();
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
