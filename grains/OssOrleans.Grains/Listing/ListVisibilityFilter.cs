using System.Runtime.CompilerServices;
using OssOrleans.Grains.Security;

namespace OssOrleans.Grains.Listing;

/// <summary>
/// What a tenant that may list only part of a partition's prefix sees of it: the entries (and common prefixes) its list
/// grants cover, and only the child partitions whose range can hold such keys. The partition's cached listing is shared
/// by every tenant; this filters each tenant's copy on its way out. A chunk's last key (what a resumed read restarts
/// after) becomes its last visible key, so no key of another tenant's leaves the silo, not even as a resume point.
/// </summary>
internal static class ListVisibilityFilter
{
    public static async IAsyncEnumerable<ListChunk> FilterAsync(IAsyncEnumerable<ListChunk> source, Tenant tenant, ListPartitionKey partition,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in source.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var writer = new ListEntryWriter();
            string? lastVisible = null;
            if (chunk.Count > 0)
            {
                foreach (var e in chunk.ReadEntries())
                {
                    if (!tenant.CanSee(partition.Bucket, e.Key, e.IsPrefix))
                        continue;
                    writer.Add(e.Key, e.Size, e.ETag, e.LastModified, e.IsPrefix);
                    lastVisible = e.Key;
                }
            }
            var children = chunk.Children.Where(c => MayHoldVisibleKeys(tenant, c)).ToArray();
            if (writer.Count == 0 && children.Length == 0)
                continue;
            var packed = writer.ToChunk();
            yield return new ListChunk(packed.PackedEntries, packed.Count, children, lastVisible);
        }
    }

    /// <summary>Whether a partition's range (StartAfter, EndAt] can hold a key under one of the tenant's list grants.</summary>
    internal static bool MayHoldVisibleKeys(Tenant tenant, ListPartitionKey child)
    {
        var visibility = tenant.VisibilityOf(child.Bucket, child.Prefix);
        if (visibility == ListVisibility.Full)
            return true;
        if (visibility == ListVisibility.None)
            return false;
        foreach (var g in tenant.Grants)
        {
            if ((g.Verbs & AccessVerbs.List) == 0 || !g.CoversBucket(child.Bucket) || !g.Prefix.StartsWith(child.Prefix, StringComparison.Ordinal))
                continue;
            // Keys under g.Prefix form the range [g.Prefix, g.Prefix + everything): it meets (StartAfter, EndAt] unless it
            // starts after the end, or ends before the start.
            bool startsBeforeEnd = child.EndAt is null || KeyOrder.Compare(g.Prefix, child.EndAt) <= 0;
            bool endsAfterStart = child.StartAfter is null || KeyOrder.Compare(child.StartAfter, g.Prefix) < 0
                || child.StartAfter.StartsWith(g.Prefix, StringComparison.Ordinal);
            if (startsBeforeEnd && endsAfterStart)
                return true;
        }
        return false;
    }
}
