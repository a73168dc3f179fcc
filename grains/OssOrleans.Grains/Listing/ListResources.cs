using OssOrleans.Grains.Cache;

namespace OssOrleans.Grains.Listing;

/// <summary>
/// The per-silo limit on list requests in flight (<see cref="Hosting.CacheOptions.MaxListConcurrency"/>), shared by every
/// list partition on the silo. Separate from the origin gate for reads, so a large listing does not starve shard loads.
/// Partitions split only while it has free slots: more partitions than slots add requests, not speed.
/// </summary>
internal sealed class ListGate(int maxConcurrency) : ConcurrencyGate(maxConcurrency);

/// <summary>Listing entries held in partition caches on this silo (<see cref="Hosting.CacheOptions.ListCacheMaxEntries"/>).</summary>
internal sealed class ListCacheBudget(long maxEntries)
{
    private long _used;

    public long Used => Interlocked.Read(ref _used);

    public long Capacity => maxEntries;

    public bool TryReserve(int entries)
    {
        while (true)
        {
            long used = Interlocked.Read(ref _used);
            if (used + entries > maxEntries)
                return false;
            if (Interlocked.CompareExchange(ref _used, used + entries, used) == used)
                return true;
        }
    }

    public void Release(long entries)
    {
        if (entries > 0)
            Interlocked.Add(ref _used, -entries);
    }
}
