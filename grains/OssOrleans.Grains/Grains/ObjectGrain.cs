using OssOrleans.Checksums;
using Orleans.Concurrency;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// One object: its metadata for <see cref="CacheOptions.MetadataTtl"/>, and prefetch of its shards.
/// Reentrant so that a long prefetch does not hold up metadata calls; concurrent refreshes share one HEAD.
/// </summary>
[Reentrant]
internal sealed class ObjectGrain(IObjectStore origin, OriginGate gate, CacheClock clock, CacheInstruments instruments, IOptions<CacheOptions> options)
    : Grain, IObjectGrain
{
    private ObjectUri _uri;
    private ObjectInfo? _info;
    private DateTimeOffset _fetchedAt;
    private Task<ObjectInfo>? _refresh;
    private int _generation;

    // Versions whose shards failed the origin's whole-object CRC-64, and why.
    private readonly Dictionary<string, string> _corrupt = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _uri = ObjectKeys.FromGrainKey(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task<ObjectInfo> GetInfoAsync()
    {
        if (_info is not null && clock.Time.GetUtcNow() - _fetchedAt < options.Value.MetadataTtl)
            return Task.FromResult(_info);
        // A completed refresh is never shared again. (It can complete synchronously when the HEAD answer arrives
        // before the grain awaits it; a "finally { _refresh = null }" then runs before this assignment, and a stale
        // completed task kept answering with the old version after the TTL: seen as a flaky TTL test under load.)
        if (_refresh is null || _refresh.IsCompleted)
            _refresh = RefreshAsync();
        return _refresh;
    }

    public Task InvalidateAsync()
    {
        // A HEAD already in flight may have been answered before the write: neither share it nor let it store its answer.
        _info = null;
        _refresh = null;
        _generation++;
        return Task.CompletedTask;
    }

    public async Task PrefetchAsync(string etag, long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (_corrupt.TryGetValue(etag, out string? reason))
            throw new OssIntegrityException(reason);
        var info = await GetInfoAsync().ConfigureAwait(true);
        if (info.ETag != etag)
            throw new ObjectChangedException($"{_uri} changed at the origin: asked for version {etag}, the current one is {info.ETag}");
        long end = Math.Min(info.Size, offset + length);
        if (offset >= end)
            return;
        int first = (int)(offset / info.ShardSize), last = (int)((end - 1) / info.ShardSize);
        var locations = new ShardLocation[last - first + 1];
        await Parallel.ForEachAsync(
            Enumerable.Range(first, last - first + 1),
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.PrefetchConcurrency, TaskScheduler = TaskScheduler.Current },
            async (i, _) => locations[i - first] = await GrainFactory.GetGrain<IShardGrain>(info.Shard(i).ToGrainKey()).EnsureLoadedAsync(info.Size).ConfigureAwait(true))
            .ConfigureAwait(true);

        // With every shard loaded, the shard CRCs must add up to the whole-object CRC the origin gave (OSS's x-oss-hash-crc64ecma).
        if (first == 0 && end == info.Size && info.Crc64 is ulong expected)
        {
            ulong combined = locations[0].Crc64;
            for (int i = 1; i < locations.Length; i++)
                combined = Crc64Xz.Combine(combined, locations[i].Crc64, locations[i].Length);
            if (combined != expected)
            {
                // The origin's bytes do not match its own CRC for this version: none of them may be served. Every shard of the
                // version is dropped and refuses readers from now on (for an hour; the version may be rewritten meanwhile).
                instruments.CrcFailure();
                reason = $"{_uri} version {etag}: the bytes the origin served have CRC-64 {combined:x16}, but the origin says the object's is {expected:x16}; not served";
                _corrupt[etag] = reason;
                DelayDeactivation(TimeSpan.FromHours(1));
                await Task.WhenAll(Enumerable.Range(0, info.ShardCount).Select(i =>
                    GrainFactory.GetGrain<IShardControlGrain>(info.Shard(i).ToGrainKey()).DiscardAsync(reason))).ConfigureAwait(true);
                throw new OssIntegrityException(reason);
            }
        }
    }

    private async Task<ObjectInfo> RefreshAsync()
    {
        int generation = _generation;
        try
        {
            ObjectMetadata meta;
            using (await gate.EnterAsync().ConfigureAwait(true))
            {
                meta = await origin.HeadAsync(_uri.Bucket, _uri.Key).ConfigureAwait(true);
            }
            var info = new ObjectInfo(_uri, meta.Size, meta.ETag, meta.LastModified, meta.Crc64, options.Value.ShardSize) { ContentType = meta.ContentType };
            if (generation == _generation)
            {
                _info = info;
                _fetchedAt = clock.Time.GetUtcNow();
            }
            return info;
        }
        catch (ObjectStoreException ex)
        {
            if (ex is ObjectNotFoundException && generation == _generation)
                _info = null;
            throw OriginErrors.ToWire(ex, _uri, "HEAD");
        }
    }
}

/// <summary>The clock behind metadata TTLs; a separate service so tests can move it without moving Orleans' own clock.</summary>
internal sealed class CacheClock(TimeProvider time)
{
    public TimeProvider Time { get; } = time;
}
