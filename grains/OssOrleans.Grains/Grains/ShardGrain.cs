using Microsoft.Extensions.Logging;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Uploads;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// One shard of one object version. Not reentrant on purpose: concurrent callers queue behind the first load,
/// which makes the load single-flight for the whole cluster (one activation per shard id).
/// </summary>
internal sealed partial class ShardGrain(
    ShardStore store,
    IObjectStore origin,
    OriginGate gate,
    DataPlaneEndpoint endpoint,
    CacheInstruments instruments,
    ILocalSiloDetails silo,
    PeerFetcher peers,
    ILogger<ShardGrain> logger) : Grain, IShardGrain, IShardSeedGrain
{
    private ShardId _id;
    private string _key = "";
    private StagedShard? _seed;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        _id = ShardId.FromGrainKey(_key);
        return Task.CompletedTask;
    }

    public async Task<ShardLocation> EnsureLoadedAsync(long objectSize)
    {
        string baseUrl = await endpoint.UrlAsync.ConfigureAwait(true);
        if (store.TryGetHandle(_key, out long handle, out ulong crc, out int length))
        {
            instruments.Hit();
            return Location(baseUrl, handle, length, crc);
        }

        length = _id.LengthIn(objectSize);
        if (length <= 0)
            throw new ArgumentOutOfRangeException(nameof(objectSize), $"shard {_id.Index} lies beyond the end of a {objectSize}-byte object");

        if (_seed is { } seed && seed.Length == length)
        {
            _seed = null;
            if (await TryAdoptAsync(seed).ConfigureAwait(true) is long adopted)
            {
                instruments.Hit();
                return Location(baseUrl, adopted, seed.Length, seed.Crc64);
            }
        }

        byte[] buffer = store.Rent(length);
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(true))
            {
                instruments.OriginRequest();
                await origin.ReadRangeAsync(_id.Object.Bucket, _id.Object.Key, _id.ETag, _id.Offset, buffer.AsMemory(0, length)).ConfigureAwait(true);
            }
        }
        catch (Exception ex)
        {
            store.Return(buffer);
            LogLoadFailed(logger, _id.ToString(), ex.GetType().Name, ex.Message);
            throw ex switch
            {
                PreconditionFailedException => new ObjectChangedException($"{_id.Object} changed at the origin: version {_id.ETag} is gone"),
                ObjectNotFoundException => new OssObjectNotFoundException($"{_id.Object} does not exist at the origin"),
                ObjectStoreException => new OriginFailedException($"reading {_id} from the origin failed: {ex.Message}"),
                _ => ex,
            };
        }

        instruments.Miss();
        instruments.FromOrigin(length);
        (crc, var blocks) = ShardStore.ComputeCrcs(buffer.AsSpan(0, length));
        handle = store.Add(_key, buffer, length, crc, blocks);
        return Location(baseUrl, handle, length, crc);
    }

    public Task SeedAsync(StagedShard staged)
    {
        if (!store.TryGetHandle(_key, out _, out _, out _))
            _seed = staged;
        return Task.CompletedTask;
    }

    // Write-through: the shard's bytes were staged by the silo that uploaded its part. On that silo they just get the
    // shard's id; elsewhere they are copied over the data plane. Either way the origin is not asked.
    private async Task<long?> TryAdoptAsync(StagedShard seed)
    {
        if (seed.Silo == silo.SiloAddress.ToString())
            return store.TryRekey(seed.Handle, _key, out ulong crc, out int length) && crc == seed.Crc64 && length == seed.Length ? seed.Handle : null;
        var buffer = await peers.TryFetchAsync(seed).ConfigureAwait(true);
        return buffer is null ? null : store.Add(_key, buffer, seed.Length, seed.Crc64);
    }

    private ShardLocation Location(string baseUrl, long handle, int length, ulong crc) =>
        new(baseUrl + DataPlaneEndpoint.ShardPath(handle), length, crc, silo.SiloAddress.ToString(), endpoint.LocalSocket);

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Loading shard {Shard} failed: {ErrorType}: {Error}")]
    private static partial void LogLoadFailed(ILogger logger, string shard, string errorType, string error);
}
