using OssOrleans.Grains.Listing;

namespace OssOrleans.Gateway.Writing;

/// <summary>
/// What every write through the gateway does once the origin has the new state, before it is answered: the cached
/// metadata of each key is dropped (its next read asks the origin, so a changed object is never served from the old
/// version's shards) and every silo hears that the keys' listings changed.
/// </summary>
internal sealed class WriteNotices(IGrainFactory grains, ListWriteAnnouncer listings)
{
    public async Task WrittenAsync(string bucket, IReadOnlyCollection<string> keys)
    {
        await Task.WhenAll(keys.Select(k => grains.GetGrain<IObjectGrain>(new ObjectUri(bucket, k).ToGrainKey()).InvalidateAsync())).ConfigureAwait(false);
        await listings.AnnounceAsync(bucket, keys).ConfigureAwait(false);
    }
}
