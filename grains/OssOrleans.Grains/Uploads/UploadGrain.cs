using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Uploads;

/// <summary>
/// A multipart upload session. It holds no state of its own: every call carries the session and the parts, so a retried
/// call after the loss of this grain's silo does the same thing again (the origin's complete and abort are idempotent
/// enough: a second complete of a completed upload finds the object, a second abort finds nothing).
/// </summary>
internal sealed partial class UploadGrain(IObjectStore origin, OriginGate gate, IOptions<CacheOptions> options, ILogger<UploadGrain> logger)
    : Grain, IUploadGrain
{
    public async Task<UploadSession> StartAsync(ObjectUri uri, bool createOnly)
    {
        uri = uri.RequireObject();
        if (createOnly)
            await ThrowIfExistsAsync(uri).ConfigureAwait(true);
        string id;
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(true))
                id = await origin.InitiateMultipartAsync(uri.Bucket, uri.Key, new PutOptions { CreateOnly = createOnly }).ConfigureAwait(true);
        }
        catch (ObjectAlreadyExistsException)
        {
            throw Exists(uri);
        }
        catch (ObjectStoreException ex)
        {
            throw new OriginFailedException($"starting an upload of {uri} failed: {ex.Message}");
        }
        return new UploadSession(uri, id, options.Value.ShardSize, createOnly);
    }

    public async Task<ObjectInfo> CompleteAsync(UploadSession session, UploadedPartInfo[] parts, StagedShard[] staged)
    {
        var uri = session.Uri;
        PutResult result;
        try
        {
            // Servers that ignore the conditional complete (s3rver; OSS on versioned buckets) would overwrite: check first.
            // A writer that appears between this HEAD and the complete still wins the race there (see the README).
            if (session.CreateOnly)
                await ThrowIfExistsAsync(uri).ConfigureAwait(true);
            using (await gate.EnterAsync().ConfigureAwait(true))
            {
                result = await origin.CompleteMultipartAsync(uri.Bucket, uri.Key, session.OriginUploadId,
                    [.. parts.OrderBy(p => p.PartNumber).Select(p => new UploadedPart(p.PartNumber, p.ETag, p.Size))]).ConfigureAwait(true);
            }
        }
        catch (Exception ex) when (ex is ObjectAlreadyExistsException or OssObjectExistsException)
        {
            await AbortAsync(session).ConfigureAwait(true);
            throw Exists(uri);
        }
        catch (ObjectStoreException ex)
        {
            // A complete retried after its answer was lost (this grain's silo died, say) finds the upload gone because it
            // completed: the object is there with the multipart ETag of exactly these parts.
            result = await FindOwnCompletionAsync(uri, parts).ConfigureAwait(true)
                ?? throw new OriginFailedException($"completing the upload of {uri} failed: {ex.Message}");
        }

        // The new version is visible: forget the old metadata, and hand each staged shard to its shard grain, but only when
        // the object at the origin is exactly what was uploaded (same ETag and size); otherwise someone wrote after us.
        var objectGrain = GrainFactory.GetGrain<IObjectGrain>(uri.ToGrainKey());
        await objectGrain.InvalidateAsync().ConfigureAwait(true);
        var info = await objectGrain.GetInfoAsync().ConfigureAwait(true);
        long size = parts.Sum(p => p.Size);
        if (SameETag(info.ETag, result.ETag) && info.Size == size && info.ShardSize == session.ShardSize)
        {
            await Task.WhenAll(staged
                .Where(s => s.Index >= 0 && s.Index < info.ShardCount && s.Length == info.Shard(s.Index).LengthIn(info.Size))
                .Select(s => GrainFactory.GetGrain<IShardSeedGrain>(info.Shard(s.Index).ToGrainKey()).SeedAsync(s))).ConfigureAwait(true);
        }
        else
        {
            LogNotSeeded(logger, uri.ToString(), result.ETag, info.ETag);
        }
        DeactivateOnIdle();
        return info;
    }

    public async Task AbortAsync(UploadSession session)
    {
        var uri = session.Uri;
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(true))
                await origin.AbortMultipartAsync(uri.Bucket, uri.Key, session.OriginUploadId).ConfigureAwait(true);
        }
        catch (NotSupportedException)
        {
            // s3rver answers 405; the parts stay at the origin until its own lifecycle rules remove them.
            LogAbortUnsupported(logger, uri.ToString(), origin.Name);
        }
        catch (ObjectStoreException ex)
        {
            LogAbortFailed(logger, uri.ToString(), ex.Message);
        }
        DeactivateOnIdle();
    }

    private async Task<PutResult?> FindOwnCompletionAsync(ObjectUri uri, UploadedPartInfo[] parts)
    {
        if (MultipartETag.Compute([.. parts.OrderBy(p => p.PartNumber)]) is not { } expected)
            return null;
        try
        {
            ObjectMetadata head;
            using (await gate.EnterAsync().ConfigureAwait(true))
                head = await origin.HeadAsync(uri.Bucket, uri.Key).ConfigureAwait(true);
            return MultipartETag.Matches(head.ETag, expected) && head.Size == parts.Sum(p => p.Size) ? new PutResult(head.ETag) : null;
        }
        catch (ObjectStoreException)
        {
            return null;
        }
    }

    private async Task ThrowIfExistsAsync(ObjectUri uri)
    {
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(true))
                await origin.HeadAsync(uri.Bucket, uri.Key).ConfigureAwait(true);
        }
        catch (ObjectNotFoundException)
        {
            return;
        }
        throw Exists(uri);
    }

    private static bool SameETag(string a, string b) =>
        string.Equals(a.Trim().Trim('"'), b.Trim().Trim('"'), StringComparison.Ordinal);

    private static OssObjectExistsException Exists(ObjectUri uri) => new($"{uri} already exists (create-only write)");

    [LoggerMessage(EventId = 2610, Level = LogLevel.Information, Message = "Upload of {Uri} could not be aborted: {Origin} does not support AbortMultipartUpload")]
    private static partial void LogAbortUnsupported(ILogger logger, string uri, string origin);

    [LoggerMessage(EventId = 2611, Level = LogLevel.Warning, Message = "Aborting the upload of {Uri} failed: {Error}")]
    private static partial void LogAbortFailed(ILogger logger, string uri, string error);

    [LoggerMessage(EventId = 2612, Level = LogLevel.Information, Message = "Upload of {Uri} completed as {ETag} but the origin now has {Current}; staged shards not used")]
    private static partial void LogNotSeeded(ILogger logger, string uri, string etag, string current);
}
