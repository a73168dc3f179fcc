using Microsoft.Extensions.Logging;
using OssOrleans.Grains.Cache;
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
    ILogger<ShardGrain> logger) : Grain, IShardGrain
{
    private ShardId _id;
    private string _key = "";

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
        crc = Crc64Xz.Compute(buffer.AsSpan(0, length));
        handle = store.Add(_key, buffer, length, crc);
        return Location(baseUrl, handle, length, crc);
    }

    private ShardLocation Location(string baseUrl, long handle, int length, ulong crc) =>
        new(baseUrl + DataPlaneEndpoint.ShardPath(handle), length, crc, silo.SiloAddress.ToString(), endpoint.LocalSocket);

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Loading shard {Shard} failed: {ErrorType}: {Error}")]
    private static partial void LogLoadFailed(ILogger logger, string shard, string errorType, string error);
}
