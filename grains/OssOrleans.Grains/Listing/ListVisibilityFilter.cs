using System.Runtime.CompilerServices;
using OssOrleans.Grains.Security;

namespace OssOrleans.Grains.Listing;

/// <summary>
/// What a tenant that may list only part of a partition's prefix sees of it: the entries (and common prefixes) its list
/// grants cover, in key order, and nothing else. The partition's cached listing is shared by every tenant; this filters
/// each such tenant's copy on its way out. Child partitions are never handed to such a tenant: their bounds are names
/// taken from the keys around them (a directory of another tenant, a key with a character raised), so the silo reads the
/// children itself (only those whose range can hold a visible key) and passes on their visible entries. A chunk's last
/// key (what a resumed read restarts after) is its last visible key. So no name outside the tenant's grants leaves the
/// silo, not even as a resume point or a bound; the price is that such a listing is read by this silo alone, not fanned
/// out (a tenant listing its own prefixes gets the fast path).
/// </summary>
internal static class ListVisibilityFilter
{
    /// <param name="source">The partition's own listing (entries and children).</param>
    /// <param name="readChild">Reads a child partition's listing (as a silo: unfiltered).</param>
    public static async IAsyncEnumerable<ListChunk> FilterAsync(IAsyncEnumerable<ListChunk> source, Tenant tenant, ListPartitionKey partition,
        Func<ListPartitionKey, IAsyncEnumerable<ListChunk>> readChild, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var children = new List<ListPartitionKey>();
        await foreach (var chunk in source.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (Visible(chunk, tenant, partition) is { } own)
                yield return own;
            children.AddRange(chunk.Children.Where(c => MayHoldVisibleKeys(tenant, c)));
        }
        // A split is announced before the partition lists the rest of its own (shrunk) range, and a later split of that
        // rest makes children that come before the earlier ones: so the children are read after the partition's own
        // entries, in the order of their ranges, which keeps the whole listing in key order.
        children.Sort((x, y) => KeyOrder.Compare(x.StartAfter, y.StartAfter));
        foreach (var child in children)
        {
            await foreach (var visible in FilterAsync(readChild(child), tenant, child, readChild, cancellationToken).ConfigureAwait(false))
                yield return visible;
        }
    }

    // The chunk's visible entries, without children; null when none is visible.
    private static ListChunk? Visible(ListChunk chunk, Tenant tenant, ListPartitionKey partition)
    {
        if (chunk.Count == 0)
            return null;
        var writer = new ListEntryWriter();
        string? lastVisible = null;
        foreach (var e in chunk.ReadEntries())
        {
            if (!tenant.CanSee(partition.Bucket, e.Key, e.IsPrefix))
                continue;
            writer.Add(e.Key, e.Size, e.ETag, e.LastModified, e.IsPrefix);
            lastVisible = e.Key;
        }
        if (writer.Count == 0)
            return null;
        var packed = writer.ToChunk();
        return new ListChunk(packed.PackedEntries, packed.Count, [], lastVisible);
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
