using Orleans.Concurrency;
using OssOrleans.Grains.Cache;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// A run of small dataset items. Reentrant so that batches from many readers (and prefetch hints) load in parallel; an
/// item being loaded is shared through <see cref="_loading"/>, so each item is fetched from the origin once per cluster
/// (one activation per run). The activation keeps no bytes: they live in the silo's bounded shard store.
/// </summary>
[Reentrant]
internal sealed class DatasetRunGrain(ShardStore store, IObjectStore origin, OriginGate gate, DataPlaneEndpoint endpoint,
    CacheInstruments instruments, ILocalSiloDetails silo) : Grain, IDatasetRunGrain
{
    private readonly Dictionary<string, Task<DatasetItemLocation>> _loading = new(StringComparer.Ordinal);

    public async Task<DatasetItemLocation[]> LoadAsync(string bucket, int shardSize, DatasetItemRecord[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        string baseUrl = await endpoint.UrlAsync.ConfigureAwait(true);
        var results = new DatasetItemLocation[items.Length];
        List<(int Index, Task<DatasetItemLocation> Load)>? pending = null;
        for (int i = 0; i < items.Length; i++)
        {
            var r = items[i];
            if (r.Size <= 0 || r.Size > shardSize)
                throw new ArgumentException($"item {r.Key} has {r.Size} bytes; a dataset run holds items of 1 to {shardSize} bytes");
            var id = new ShardId(new ObjectUri(bucket, r.Key), r.ETag, shardSize, 0);
            string key = id.ToGrainKey();
            if (store.TryGetHandle(key, out long handle, out ulong crc, out int length))
            {
                instruments.Hit();
                results[i] = new DatasetItemLocation(DatasetItemStatus.Loaded, Location(baseUrl, handle, length, crc));
                continue;
            }
            // A completed load is never shared: its finally may have run before it was stored (a synchronous failure).
            if (!_loading.TryGetValue(key, out var load) || load.IsCompleted)
            {
                load = LoadOneAsync(id, key, (int)r.Size, baseUrl);
                if (!load.IsCompleted)
                    _loading[key] = load;
            }
            (pending ??= []).Add((i, load));
        }
        if (pending is not null)
        {
            foreach (var (index, load) in pending)
                results[index] = await load.ConfigureAwait(true);
        }
        return results;
    }

    private async Task<DatasetItemLocation> LoadOneAsync(ShardId id, string key, int length, string baseUrl)
    {
        byte[] buffer = store.Rent(length);
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(true))
            {
                instruments.OriginRequest();
                await origin.ReadRangeAsync(id.Object.Bucket, id.Object.Key, id.ETag, 0, buffer.AsMemory(0, length)).ConfigureAwait(true);
            }
            instruments.Miss();
            instruments.FromOrigin(length);
            ulong crc = Crc64Xz.Compute(buffer.AsSpan(0, length));
            long handle = store.Add(key, buffer, length, crc);
            return new DatasetItemLocation(DatasetItemStatus.Loaded, Location(baseUrl, handle, length, crc));
        }
        catch (Exception ex)
        {
            store.Return(buffer);
            return ex switch
            {
                ObjectNotFoundException => new DatasetItemLocation(DatasetItemStatus.Missing, null),
                PreconditionFailedException => new DatasetItemLocation(DatasetItemStatus.Changed, null, $"version {id.ETag} is gone"),
                ObjectStoreException => new DatasetItemLocation(DatasetItemStatus.Failed, null, ex.Message),
                _ => new DatasetItemLocation(DatasetItemStatus.Failed, null, $"{ex.GetType().Name}: {ex.Message}"),
            };
        }
        finally
        {
            _loading.Remove(key);
        }
    }

    private ShardLocation Location(string baseUrl, long handle, int length, ulong crc) =>
        new(baseUrl + DataPlaneEndpoint.ShardPath(handle), length, crc, silo.SiloAddress.ToString(), endpoint.LocalSocket);
}
