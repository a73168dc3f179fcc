using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.Grains.Uploads;
using OssOrleans.Storage;

namespace OssOrleans.Gateway.Writing;

/// <summary>
/// Writes whole objects (PutObject, CopyObject) through the cluster's writer, atomically: nothing is visible at the origin
/// until every byte has arrived and passed its checks. A body up to <see cref="GatewayOptions.SinglePutLimit"/> is held in
/// memory, checked, and written with one PUT; it is then kept as the new version's shards (write-through). A larger one is
/// received part by part (<see cref="PartReceiver"/>: each part checked, uploaded and staged) into a multipart upload that
/// the upload grain completes, seeding the cache from the staged parts, or aborts when anything fails. Either way a write
/// holds one of the silo's upload slots (bounded per tenant), and memory stays at one part.
/// </summary>
internal sealed class ObjectWriter(
    PartReceiver parts,
    ShardStore store,
    IObjectStore origin,
    OriginGate gate,
    ClusterKeys keys,
    IGrainFactory grains,
    WriteNotices notices,
    DataPlaneEndpoint endpoint,
    ILocalSiloDetails silo,
    IOptions<CacheOptions> cache,
    IOptions<AuthOptions> auth,
    IOptions<GatewayOptions> options,
    BodyReader bodies,
    ILogger<ObjectWriter> logger)
{
    private readonly int _shardSize = cache.Value.ShardSize;
    private readonly GatewayOptions _options = options.Value;
    private readonly string _silo = silo.SiloAddress.ToString();

    /// <summary>The result of a write: the new version's ETag, as the origin gave it.</summary>
    public async Task<string> WriteAsync(S3Exchange exchange, WriteRequest write, Stream source)
    {
        using var slot = await parts.TryEnterAsync(exchange.Tenant!.Id, exchange.Aborted).ConfigureAwait(false)
            ?? throw S3Errors.SlowDown().ToException();
        return write.Length <= _options.SinglePutLimit
            ? await WriteSingleAsync(exchange, write, source).ConfigureAwait(false)
            : await WriteMultipartAsync(exchange, write, source).ConfigureAwait(false);
    }

    /// <summary>A session for the parts of an origin upload, signed by the cluster as the upload grain would sign it.</summary>
    public UploadSession Session(ObjectUri uri, string uploadId, int partSize, bool createOnly, string tenant)
    {
        var expires = DateTimeOffset.UtcNow + auth.Value.UploadSessionLifetime;
        var claims = new UploadClaims(uri.Bucket, uri.Key, uploadId, _shardSize, partSize, createOnly, tenant, expires.ToUnixTimeSeconds());
        return new UploadSession(uri, uploadId, _shardSize, createOnly, partSize, tenant, expires, UploadTokens.Issue(keys, claims), []);
    }

    /// <summary>The claims of a session made by <see cref="Session"/>.</summary>
    public UploadClaims Claims(UploadSession session) =>
        UploadTokens.TryRead(keys, session.Token, DateTimeOffset.UtcNow, out var claims)
            ? claims
            : throw new InvalidOperationException("a session this gateway just signed does not read back");

    private async Task<string> WriteSingleAsync(S3Exchange exchange, WriteRequest write, Stream source)
    {
        int length = (int)write.Length;
        var uri = write.Uri;
        // Up to a shard, the body goes straight into the buffer the shard store keeps afterwards: no copy for the cache.
        bool shardBuffer = length <= _shardSize;
        byte[] buffer = shardBuffer ? store.Rent(length) : ArrayPool<byte>.Shared.Rent(length);
        bool kept = false;
        try
        {
            var bytes = buffer.AsMemory(0, length);
            await bodies.WithTimeoutAsync(exchange, async ct =>
            {
                await source.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
                if (write.Finish is not null)
                    await write.Finish(ct).ConfigureAwait(false);
            }).ConfigureAwait(false);

            if (write.BeforeCommit is not null)
                await write.BeforeCommit(exchange.Aborted).ConfigureAwait(false);
            PutResult put;
            try
            {
                using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                {
                    put = await origin.PutAsync(uri.Bucket, uri.Key, bytes, new PutOptions { CreateOnly = write.CreateOnly, ContentType = write.ContentType },
                        exchange.Aborted).ConfigureAwait(false);
                }
            }
            catch (ObjectNotFoundException)
            {
                throw S3Errors.NoSuchBucket().ToException();
            }
            await notices.WrittenAsync(uri.Bucket, [uri.Key]).ConfigureAwait(false);
            kept = await SeedAsync(exchange, uri, put.ETag, buffer, length, shardBuffer).ConfigureAwait(false);
            return put.ETag;
        }
        finally
        {
            if (!kept)
            {
                if (shardBuffer)
                    store.Return(buffer);
                else
                    ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Write-through of a single PUT: the bytes become the new version's shards, staged here with receipts as parts are,
    /// but only when the origin now has exactly that version (its ETag and size); otherwise the cache loads it on demand.
    /// True when <paramref name="buffer"/> was kept by the shard store.
    /// </summary>
    private async Task<bool> SeedAsync(S3Exchange exchange, ObjectUri uri, string etag, byte[] buffer, int length, bool shardBuffer)
    {
        if (length == 0)
            return false;
        ObjectInfo info;
        try
        {
            info = await grains.GetGrain<IObjectGrain>(uri.ToGrainKey()).GetInfoAsync().WaitAsync(exchange.Aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OssObjectNotFoundException or OriginFailedException or TimeoutException)
        {
            GatewayLog.NotSeeded(logger, uri.ToString(), ex.GetType().Name);
            return false;
        }
        if (!StoreKeys.ETagEquals(info.ETag, etag) || info.Size != length || info.ShardSize != _shardSize)
        {
            GatewayLog.NotSeeded(logger, uri.ToString(), "the origin already holds another version");
            return false;
        }
        string uploadId = "put-" + Guid.NewGuid().ToString("N");
        var claims = Claims(Session(uri, uploadId, length, createOnly: false, exchange.Tenant!.Id));
        string dataPlane = endpoint.Url ?? "";
        bool kept = false;
        var seeds = new List<Task>();
        for (int at = 0, i = 0; at < length; at += _shardSize, i++)
        {
            int n = Math.Min(_shardSize, length - at);
            byte[] shard;
            if (shardBuffer)
            {
                shard = buffer;
                kept = true;
            }
            else
            {
                shard = store.Rent(n);
                buffer.AsSpan(at, n).CopyTo(shard);
            }
            var crcs = ShardCrcs.Compute(shard.AsSpan(0, n));
            string stageId = PartReceiver.StageId(uploadId, 1, i);
            long handle = store.Add(stageId, shard, n, crcs.Whole, crcs);
            var receipt = StageReceipts.Sign(keys, claims, i, _silo, dataPlane, handle, n, crcs.Whole, 1, info.ETag, length);
            seeds.Add(grains.GetGrain<IShardSeedGrain>(info.Shard(i).ToGrainKey()).SeedAsync(new SeedOrder(receipt, stageId, info.Size, i)));
        }
        await Task.WhenAll(seeds).ConfigureAwait(false);
        return kept;
    }

    private async Task<string> WriteMultipartAsync(S3Exchange exchange, WriteRequest write, Stream source)
    {
        var uri = write.Uri;
        int partSize = UploadGrain.EffectivePartSize(_options.WritePartSize, _shardSize);
        string uploadId;
        try
        {
            using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
            {
                uploadId = await origin.InitiateMultipartAsync(uri.Bucket, uri.Key, new PutOptions { ContentType = write.ContentType }, exchange.Aborted)
                    .ConfigureAwait(false);
            }
        }
        catch (ObjectNotFoundException)
        {
            throw S3Errors.NoSuchBucket().ToException();
        }
        var session = Session(uri, uploadId, partSize, write.CreateOnly, exchange.Tenant!.Id);
        var claims = Claims(session);
        var upload = grains.GetGrain<IUploadGrain>(TenantKeys.Owned(exchange.Tenant.Id, Guid.NewGuid().ToString("N")));
        try
        {
            var done = new List<UploadedPartInfo>();
            var staged = new List<StagedShard>();
            long offset = 0;
            int number = 1;
            do
            {
                int n = (int)Math.Min(partSize, write.Length - offset);
                bool lastPart = offset + n == write.Length;
                var answer = await bodies.WithTimeoutAsync(exchange, async ct =>
                {
                    var received = await parts.ReceiveAsync(claims, number, source, n, stage: true, ct).ConfigureAwait(false);
                    if (lastPart && write.Finish is not null)
                        await write.Finish(ct).ConfigureAwait(false);
                    return received;
                }).ConfigureAwait(false);
                done.Add(new UploadedPartInfo(number, answer.ETag, n));
                staged.AddRange(answer.Staged);
                offset += n;
                number++;
            }
            while (offset < write.Length);
            if (write.BeforeCommit is not null)
                await write.BeforeCommit(exchange.Aborted).ConfigureAwait(false);
            var info = await upload.CompleteAsync(session, [.. done], [.. staged]).ConfigureAwait(false);
            return info.ETag;
        }
        catch
        {
            try
            {
                await upload.AbortAsync(session).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                GatewayLog.AbortFailed(logger, uri.ToString(), ex.Message);
            }
            throw;
        }
    }
}
