using Orleans.Runtime;
using OssOrleans.Grains.Security;

namespace OssOrleans.Gateway.Listing;

/// <summary>
/// Reads S3 pages from the cluster's list partitions. A listing is one plain (sequentially paged) partition of the bucket,
/// prefix and delimiter starting after the client's start position, so two clients listing the same prefix share one
/// origin listing and its cache; the pages of one client continue the same stream (<see cref="ListCursorCache"/>). A tenant
/// that may see only part of the prefix gets only the items its list grants cover: the rest are skipped, and the page goes
/// on until it has its items, so no hidden key is returned, or used as a resume point.
/// </summary>
internal sealed class ListPager(IGrainFactory grains)
{
    /// <summary>Chunks per grain message: at most 2 x 1000 entries, as the client reads them.</summary>
    private const int ChunksPerMessage = 2;

    private const int MaxResumes = 3;

    /// <param name="cursor">A cursor from an earlier page, to continue; a fresh stream starting after <paramref name="after"/> otherwise.</param>
    public async Task<ListPageRead> ReadAsync(Tenant tenant, ListPartitionKey listing, string? after, ListCursor? cursor, int maxKeys,
        CancellationToken cancellationToken)
    {
        if (cursor is not null && (cursor.Owner != tenant.Id || cursor.Listing != listing))
        {
            await cursor.DisposeAsync().ConfigureAwait(false);
            cursor = null;
        }
        if (maxKeys == 0)
        {
            if (cursor is not null)
                await cursor.DisposeAsync().ConfigureAwait(false);
            return new ListPageRead([], false, null);
        }
        cursor ??= new ListCursor(tenant.Id, listing, Open(listing, after));
        bool filter = tenant.VisibilityOf(listing.Bucket, listing.Prefix) != ListVisibility.Full;
        var items = new List<ObjectEntry>(Math.Min(maxKeys, 1000));
        string? last = after;
        int resumes = 0;
        try
        {
            while (true)
            {
                ObjectEntry? entry;
                try
                {
                    entry = await cursor.PeekAsync(s => new ValueTask<bool>(s.MoveNextAsync().AsTask().WaitAsync(cancellationToken))).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsLostStream(ex) && !cancellationToken.IsCancellationRequested && ++resumes <= MaxResumes)
                {
                    // The partition's silo went away, or dropped an enumeration idle past its limit: go on after the last item.
                    await cursor.ReplaceStreamAsync(Open(listing, last)).ConfigureAwait(false);
                    continue;
                }
                if (entry is null)
                    break;
                if ((last is not null && KeyOrder.Compare(entry.Key, last) <= 0) || (filter && !tenant.CanSee(listing.Bucket, entry.Key, entry.IsPrefix)))
                {
                    cursor.Take();
                    continue;
                }
                if (items.Count == maxKeys)
                    return new ListPageRead(items, true, cursor);
                items.Add(entry);
                cursor.Take();
                last = entry.Key;
            }
        }
        catch
        {
            await cursor.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await cursor.DisposeAsync().ConfigureAwait(false);
        return new ListPageRead(items, false, null);
    }

    // Outlives the request (it may serve the next page), so it takes no request's cancellation; reads wait with one instead.
    private IAsyncEnumerator<ListChunk> Open(ListPartitionKey listing, string? after) =>
        grains.GetGrain<IListPartitionGrain>(listing.WithRange(after, null).ToGrainKey()).ListAsync()
            .WithBatchSize(ChunksPerMessage).GetAsyncEnumerator(CancellationToken.None);

    private static bool IsLostStream(Exception ex) =>
        ex is EnumerationAbortedException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;
}
