using Microsoft.Extensions.Logging;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Uploads;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// One shard of one object version. Not reentrant on purpose: concurrent callers queue behind the first load,
/// which makes the load single-flight for the whole cluster (one activation per shard id).
/// </summary>
internal sealed partial class ShardGrain(
    ShardStore store,
    ShardLoader loader,
    ShardLocator locator,
    CacheInstruments instruments,
    ILocalSiloDetails silo,
    PeerFetcher peers,
    ILogger<ShardGrain> logger) : Grain, IShardGrain, IShardSeedGrain, IShardControlGrain
{
    private ShardId _id;
    private string _key = "";
    private SeedOrder? _seed;
    private string? _discarded;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        _id = ShardId.FromGrainKey(_key);
        return Task.CompletedTask;
    }

    public async Task<ShardLocation> EnsureLoadedAsync(long objectSize)
    {
        if (_discarded is not null)
            throw new OssIntegrityException(_discarded);
        if (store.TryGetHandle(_key, out long handle, out ulong crc, out int length))
        {
            instruments.Hit();
            return await locator.LocateAsync(new LoadedShard(handle, length, crc)).ConfigureAwait(true);
        }

        // Write-through bytes are used only for the size the upload grain saw at the origin, which is what a caller of the
        // new version asks with; any other claim goes to the origin, which checks it.
        if (_seed is { } seed && seed.ObjectSize == objectSize)
        {
            _seed = null;
            if (await TryAdoptAsync(seed).ConfigureAwait(true) is LoadedShard adopted)
            {
                instruments.Hit();
                return await locator.LocateAsync(adopted).ConfigureAwait(true);
            }
        }

        var loaded = await loader.LoadAsync(_id, _key, objectSize).ConfigureAwait(true);
        return await locator.LocateAsync(loaded).ConfigureAwait(true);
    }

    public Task SeedAsync(SeedOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (_discarded is null && !store.TryGetHandle(_key, out _, out _, out _)
            && order.ShardIndex == _id.Index && order.Receipt.Length == _id.LengthIn(order.ObjectSize))
            _seed = order;
        return Task.CompletedTask;
    }

    public Task DiscardAsync(string reason)
    {
        _discarded = reason;
        _seed = null;
        store.Remove(_key);
        LogDiscarded(logger, _id.ToString(), reason);
        // Remember the refusal for a while, so readers of this version keep getting the error rather than a reload.
        DelayDeactivation(TimeSpan.FromHours(1));
        return Task.CompletedTask;
    }

    // Write-through: the shard's bytes were staged by the silo that uploaded its part. On that silo the staged entry just
    // gets the shard's id (if the handle still holds exactly that upload's shard); elsewhere they are copied over the data
    // plane and checked against the receipt's CRC. Either way the origin is not asked.
    private async Task<LoadedShard?> TryAdoptAsync(SeedOrder seed)
    {
        var r = seed.Receipt;
        if (r.Silo == silo.SiloAddress.ToString())
        {
            return store.TryRekey(r.Handle, seed.StageId, _key, out ulong crc, out int length) && crc == r.Crc64 && length == r.Length
                ? new LoadedShard(r.Handle, length, crc)
                : null;
        }
        var buffer = await peers.TryFetchAsync(r, seed.StageId).ConfigureAwait(true);
        return buffer is null ? null : new LoadedShard(store.Add(_key, buffer, r.Length, r.Crc64), r.Length, r.Crc64);
    }

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Shard {Shard} discarded: {Reason}")]
    private static partial void LogDiscarded(ILogger logger, string shard, string reason);
}
