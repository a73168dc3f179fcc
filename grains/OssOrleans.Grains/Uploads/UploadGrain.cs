using OssOrleans.Checksums;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Listing;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Uploads;

/// <summary>
/// A multipart upload session. It holds no state of its own: every call carries the session (signed by the cluster, see
/// <see cref="UploadTokens"/>) and the parts, so a retried call after the loss of this grain's silo does the same thing
/// again (the origin's complete and abort are idempotent enough: a second complete of a completed upload finds the object,
/// a second abort finds nothing). What the session says is read from its token, never from the copy beside it.
/// </summary>
internal sealed partial class UploadGrain(IObjectStore origin, OriginGate gate, ClusterKeys keys, ListWriteAnnouncer listings,
    IOptions<CacheOptions> options, IOptions<AuthOptions> auth, ILogger<UploadGrain> logger) : Grain, IUploadGrain
{
    /// <summary>S3's (and OSS's) smallest part but the last.</summary>
    internal const int MinPartSize = 5 << 20;

    /// <summary>The part size asked for, at least 5 MiB and rounded up to whole shards, so each part's bytes become whole cached shards.</summary>
    internal static int EffectivePartSize(int requested, int shardSize)
    {
        long rounded = (Math.Max(requested, MinPartSize) + (long)shardSize - 1) / shardSize * shardSize;
        if (requested < 1 || rounded > PartReceiver.MaxPartSize)
            throw new ArgumentException($"part size {requested}: must be between 1 byte and {PartReceiver.MaxPartSize} bytes");
        return (int)rounded;
    }

    public async Task<UploadSession> StartAsync(ObjectUri uri, bool createOnly, int partSize)
    {
        uri = uri.RequireObject();
        int shardSize = options.Value.ShardSize;
        partSize = EffectivePartSize(partSize, shardSize);
        if (createOnly)
            await ThrowIfExistsAsync(uri).ConfigureAwait(true);
        string id;
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(true))
                id = await origin.InitiateMultipartAsync(uri.Bucket, uri.Key, new PutOptions { CreateOnly = createOnly }).ConfigureAwait(true);
        }
        catch (ObjectStoreException ex)
        {
            throw OriginErrors.ToWire(ex, uri, "starting an upload of");
        }
        var expires = DateTimeOffset.UtcNow + auth.Value.UploadSessionLifetime;
        string tenant = CallerContext.TenantOrSilo.Id;
        var claims = new UploadClaims(uri.Bucket, uri.Key, id, shardSize, partSize, createOnly, tenant, expires.ToUnixTimeSeconds());
        var silos = await GrainFactory.GetGrain<IClusterStatsGrain>(0).GetSilosAsync().ConfigureAwait(true);
        UploadTarget[] targets = [.. silos.Where(s => s.DataPlaneUrl.Length > 0).Select(s => new UploadTarget(s.Silo, s.DataPlaneUrl, s.DataPlaneLocal))];
        return new UploadSession(uri, id, shardSize, createOnly, partSize, tenant, expires, UploadTokens.Issue(keys, claims), targets);
    }

    public async Task<ObjectInfo> CompleteAsync(UploadSession session, UploadedPartInfo[] parts, StagedShard[] staged)
    {
        var claims = Claims(session);
        var uri = claims.Uri;
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(staged);
        var ordered = parts.OrderBy(p => p.PartNumber).ToArray();
        for (int i = 0; i < ordered.Length; i++)
        {
            if (ordered[i].PartNumber != i + 1)
                throw new ArgumentException($"completing {uri}: parts must be numbered 1 to {ordered.Length} without gaps or repeats");
        }
        PutResult result;
        try
        {
            // Servers that ignore the conditional complete (s3rver; OSS on versioned buckets) would overwrite: check first.
            // A writer that appears between this HEAD and the complete still wins the race there (see the README).
            if (claims.CreateOnly)
                await ThrowIfExistsAsync(uri).ConfigureAwait(true);
            using (await gate.EnterAsync().ConfigureAwait(true))
            {
                result = await origin.CompleteMultipartAsync(uri.Bucket, uri.Key, claims.UploadId,
                    [.. ordered.Select(p => new UploadedPart(p.PartNumber, p.ETag, p.Size))]).ConfigureAwait(true);
            }
        }
        catch (Exception ex) when (ex is ObjectAlreadyExistsException or OssObjectExistsException)
        {
            await AbortAsync(session).ConfigureAwait(true);
            throw new OssObjectExistsException($"{uri} already exists (create-only write)");
        }
        catch (ObjectStoreException ex)
        {
            // A complete retried after its answer was lost (this grain's silo died, say) finds the upload gone because it
            // completed: the object is there with the multipart ETag of exactly these parts.
            result = await FindOwnCompletionAsync(uri, ordered).ConfigureAwait(true)
                ?? throw OriginErrors.ToWire(ex, uri, "completing the upload of");
        }

        // The new version is visible: forget the old metadata, and hand the staged shards to their shard grains, but only
        // when they are provably the bytes of exactly this version (see Seedable).
        var objectGrain = GrainFactory.GetGrain<IObjectGrain>(uri.ToGrainKey());
        await objectGrain.InvalidateAsync().ConfigureAwait(true);
        await listings.AnnounceAsync(uri.Bucket, [uri.Key]).ConfigureAwait(true);
        var info = await objectGrain.GetInfoAsync().ConfigureAwait(true);
        if (Seedable(claims, ordered, staged, result, info, out var seeds, out string why))
        {
            await Task.WhenAll(seeds.Select(s => GrainFactory.GetGrain<IShardSeedGrain>(info.Shard(s.ShardIndex).ToGrainKey()).SeedAsync(s))).ConfigureAwait(true);
        }
        else
        {
            LogNotSeeded(logger, uri.ToString(), why);
        }
        DeactivateOnIdle();
        return info;
    }

    public async Task AbortAsync(UploadSession session)
    {
        var claims = Claims(session);
        var uri = claims.Uri;
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(true))
                await origin.AbortMultipartAsync(uri.Bucket, uri.Key, claims.UploadId).ConfigureAwait(true);
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

    // The session as the cluster signed it, for the tenant that started it.
    private UploadClaims Claims(UploadSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!UploadTokens.TryRead(keys, session.Token, DateTimeOffset.UtcNow, out var claims))
            throw new OssAccessDeniedException("the upload session is not one this cluster signed, or it has expired");
        string caller = CallerContext.TenantOrSilo.Id;
        if (CallerContext.Tenant is not null && claims.Tenant != caller)
            throw new OssAccessDeniedException($"{caller} may not complete or abort an upload of {claims.Tenant}");
        return claims;
    }

    /// <summary>
    /// Staged bytes become the new version's shards only when they are provably a shard of it: each receipt is signed by the
    /// silo that received the bytes, for this upload and for the part number, part ETag and part length completed here (an
    /// origin refuses to complete a part whose ETag it does not have); the object at the origin has the ETag the complete
    /// returned and the parts' total size; a multipart ETag (MD5 of the part MD5s) agrees with the parts; where the origin
    /// gives a whole-object CRC-64, the shards' CRCs add up to it. A part's place in the object is the sum of the lengths of
    /// the parts before it, so shards are seeded only up to the first part without a receipt (its length is the client's word
    /// alone), and only where a staged piece starts on a shard boundary and has the shard's length. Parts whose size is a
    /// multiple of the shard size (the cluster's own writer) line up whole.
    /// </summary>
    private bool Seedable(UploadClaims claims, UploadedPartInfo[] parts, StagedShard[] staged, PutResult result, ObjectInfo info,
        out List<SeedOrder> seeds, out string why)
    {
        seeds = [];
        long size = parts.Sum(p => p.Size);
        if (!StoreKeys.ETagEquals(info.ETag, result.ETag) || info.Size != size || info.ShardSize != claims.ShardSize)
        {
            why = $"the origin now has version {info.ETag} of {info.Size} bytes; the upload completed as {result.ETag} of {size}";
            return false;
        }
        if (result.ETag.Contains('-', StringComparison.Ordinal) && MultipartETag.Compute(parts) is string expected && !MultipartETag.Matches(result.ETag, expected))
        {
            why = $"the origin's ETag {result.ETag} is not the multipart ETag of the parts completed";
            return false;
        }
        var byPart = new Dictionary<int, List<StagedShard>>();
        foreach (var r in staged)
        {
            if (r.PartNumber < 1 || r.PartNumber > parts.Length || !StageReceipts.Verify(keys, claims, r))
                continue;
            var part = parts[r.PartNumber - 1];
            if (!StoreKeys.ETagEquals(r.PartETag, part.ETag) || r.PartLength != part.Size)
                continue;
            if (!byPart.TryGetValue(r.PartNumber, out var list))
                byPart[r.PartNumber] = list = [];
            list.Add(r);
        }
        var byIndex = new SortedDictionary<int, SeedOrder>();
        long offset = 0;
        foreach (var part in parts)
        {
            if (!byPart.TryGetValue(part.PartNumber, out var receipts))
                break;
            foreach (var r in receipts)
            {
                long at = offset + (long)r.ShardInPart * claims.ShardSize;
                if (at % claims.ShardSize != 0 || at >= info.Size)
                    continue;
                int index = (int)(at / claims.ShardSize);
                if (r.Length != info.Shard(index).LengthIn(info.Size))
                    continue;
                byIndex.TryAdd(index, new SeedOrder(r, PartReceiver.StageId(claims.UploadId, r.PartNumber, r.ShardInPart), info.Size, index));
            }
            offset += part.Size;
        }
        if (byIndex.Count == 0)
        {
            why = "no staged bytes line up with a shard of the new version";
            return false;
        }
        if (info.Crc64 is ulong whole && byIndex.Count == info.ShardCount)
        {
            ulong combined = 0;
            foreach (var s in byIndex.Values)
                combined = s.ShardIndex == 0 ? s.Receipt.Crc64 : Crc64Xz.Combine(combined, s.Receipt.Crc64, s.Receipt.Length);
            if (combined != whole)
            {
                why = $"the staged shards' CRC-64 {combined} is not the origin's {whole}";
                return false;
            }
        }
        seeds = [.. byIndex.Values];
        why = "";
        return true;
    }

    private async Task<PutResult?> FindOwnCompletionAsync(ObjectUri uri, UploadedPartInfo[] parts)
    {
        if (MultipartETag.Compute(parts) is not { } expected)
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
        catch (ObjectStoreException ex)
        {
            throw OriginErrors.ToWire(ex, uri, "checking for");
        }
        throw new OssObjectExistsException($"{uri} already exists (create-only write)");
    }

    [LoggerMessage(EventId = 2610, Level = LogLevel.Information, Message = "Upload of {Uri} could not be aborted: {Origin} does not support AbortMultipartUpload")]
    private static partial void LogAbortUnsupported(ILogger logger, string uri, string origin);

    [LoggerMessage(EventId = 2611, Level = LogLevel.Warning, Message = "Aborting the upload of {Uri} failed: {Error}")]
    private static partial void LogAbortFailed(ILogger logger, string uri, string error);

    [LoggerMessage(EventId = 2612, Level = LogLevel.Information, Message = "Upload of {Uri} completed; staged shards not used: {Reason}")]
    private static partial void LogNotSeeded(ILogger logger, string uri, string reason);
}
