using Orleans.Concurrency;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Security;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// A run of small dataset items. Reentrant so that batches from many readers (and prefetch hints) load in parallel; an
/// item being loaded is shared through <see cref="_loading"/>, so each item is fetched from the origin once per cluster
/// (one activation per run). The activation keeps no bytes: they live in the silo's bounded shard store, loaded by the
/// same <see cref="ShardLoader"/> as shard grains (so under the same shard id, with the same checks).
/// </summary>
[Reentrant]
internal sealed class DatasetRunGrain(ShardStore store, ShardLoader loader, ShardLocator locator, CacheInstruments instruments)
    : Grain, IDatasetRunGrain
{
    private readonly Dictionary<string, Task<LoadedShard>> _loading = new(StringComparer.Ordinal);

    public async Task<DatasetItemLocation[]> LoadAsync(string bucket, int shardSize, DatasetItemRecord[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Length > IDatasetRunGrain.MaxItems)
            throw new ArgumentException($"{items.Length} items in one call; at most {IDatasetRunGrain.MaxItems}");
        if (shardSize != loader.ShardSize)
            throw new ArgumentException($"shard size {shardSize} is not this cluster's ({loader.ShardSize})");
        // The run belongs to the caller's tenant (its key says so), but each item is an object the tenant must be able to read.
        var tenant = CallerContext.Tenant;
        var results = new DatasetItemLocation[items.Length];
        List<(int Index, Task<LoadedShard> Load)>? pending = null;
        for (int i = 0; i < items.Length; i++)
        {
            var r = items[i];
            if (r.Size <= 0 || r.Size > shardSize)
                throw new ArgumentException($"item {r.Key} has {r.Size} bytes; a dataset run holds items of 1 to {shardSize} bytes");
            var uri = new ObjectUri(bucket, r.Key);
            if (tenant is not null && !tenant.Allows(AccessVerbs.Read, uri.Bucket, uri.Key))
                throw new OssAccessDeniedException($"{tenant.Id} may not read {uri}");
            var id = new ShardId(uri, r.ETag, shardSize, 0);
            string key = id.ToGrainKey();
            if (store.TryGetHandle(key, out long handle, out ulong crc, out int length))
            {
                instruments.Hit();
                results[i] = new DatasetItemLocation(DatasetItemStatus.Loaded, await locator.LocateAsync(new LoadedShard(handle, length, crc)).ConfigureAwait(true));
                continue;
            }
            // A completed load is never shared: its finally may have run before it was stored (a synchronous failure).
            if (!_loading.TryGetValue(key, out var load) || load.IsCompleted)
            {
                load = LoadOneAsync(id, key, r.Size);
                if (!load.IsCompleted)
                    _loading[key] = load;
            }
            (pending ??= []).Add((i, load));
        }
        if (pending is not null)
        {
            foreach (var (index, load) in pending)
                results[index] = await ToLocationAsync(load, items[index]).ConfigureAwait(true);
        }
        return results;
    }

    private async Task<LoadedShard> LoadOneAsync(ShardId id, string key, long size)
    {
        try
        {
            return await loader.LoadAsync(id, key, size).ConfigureAwait(true);
        }
        finally
        {
            _loading.Remove(key);
        }
    }

    // Each caller gets a location with its own capability; a failed load becomes the item's status, not the batch's error.
    private async Task<DatasetItemLocation> ToLocationAsync(Task<LoadedShard> load, DatasetItemRecord item)
    {
        try
        {
            return new DatasetItemLocation(DatasetItemStatus.Loaded, await locator.LocateAsync(await load.ConfigureAwait(true)).ConfigureAwait(true));
        }
        catch (Exception ex)
        {
            return ex switch
            {
                OssObjectNotFoundException => new DatasetItemLocation(DatasetItemStatus.Missing, null),
                ObjectChangedException => new DatasetItemLocation(DatasetItemStatus.Changed, null, $"version {item.ETag} is gone"),
                _ => new DatasetItemLocation(DatasetItemStatus.Failed, null, $"{ex.GetType().Name}: {ex.Message}"),
            };
        }
    }
}
