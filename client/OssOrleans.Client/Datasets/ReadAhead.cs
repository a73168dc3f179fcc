using System.Runtime.CompilerServices;

namespace OssOrleans.Client.Datasets;

/// <summary>What an iterator held ahead of its consumer at most (tests and diagnostics).</summary>
internal sealed class ReadAheadStats
{
    public long PeakItems;
    public long PeakBytes;
    public long PrefetchedItems;
}

/// <summary>
/// Reads units (single items, or whole tar chunks with one range read) ahead of the consumer: at most
/// <see cref="DatasetOptions.ReadAheadItems"/> items and <see cref="DatasetOptions.ReadAheadBytes"/> bytes are held or in
/// flight (one unit always, however large). Beyond that window the cluster is asked to load the next
/// <see cref="DatasetOptions.ClusterPrefetchItems"/> items into its own bounded caches, so they are hot when the window
/// reaches them.
/// </summary>
internal static class ReadAhead
{
    public static async IAsyncEnumerable<DatasetItem?> ReadAsync(DatasetSnapshot snapshot, IReadOnlyList<Chunk> units, DatasetOptions options,
        ReadAheadStats? stats, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queue = new Queue<(Chunk Unit, long Bytes, Task<DatasetItem?[]> Read)>();
        int next = 0, prefetched = 0, prefetchesInFlight = 0;
        long aheadBytes = 0, aheadItems = 0;
        try
        {
            while (true)
            {
                while (next < units.Count)
                {
                    var u = units[next];
                    long bytes = snapshot.BytesOf(u.Start, u.Count);
                    if (queue.Count > 0 && (aheadItems + u.Count > options.ReadAheadItems || aheadBytes + bytes > options.ReadAheadBytes))
                        break;
                    queue.Enqueue((u, bytes, snapshot.ReadRunAsync(u.Start, u.Count, options.BatchConcurrency, cts.Token, options.UseRunGrains)));
                    aheadItems += u.Count;
                    aheadBytes += bytes;
                    next++;
                    if (stats is not null)
                    {
                        stats.PeakItems = Math.Max(stats.PeakItems, aheadItems);
                        stats.PeakBytes = Math.Max(stats.PeakBytes, aheadBytes);
                    }
                }

                if (options.ClusterPrefetchItems > 0)
                {
                    prefetched = Math.Max(prefetched, next);
                    int beyond = 0;
                    for (int i = next; i < prefetched; i++)
                        beyond += units[i].Count;
                    // In flight is bounded too: a slow cluster must not collect an unbounded pile of hints.
                    while (prefetched < units.Count && beyond < options.ClusterPrefetchItems && Volatile.Read(ref prefetchesInFlight) < options.ClusterPrefetchItems)
                    {
                        var u = units[prefetched++];
                        beyond += u.Count;
                        Interlocked.Increment(ref prefetchesInFlight);
                        if (stats is not null)
                            Interlocked.Add(ref stats.PrefetchedItems, u.Count);
                        _ = PrefetchAsync(snapshot, u, options.UseRunGrains, () => Interlocked.Decrement(ref prefetchesInFlight));
                    }
                }

                if (queue.Count == 0)
                    yield break;
                var (unit, unitBytes, read) = queue.Dequeue();
                var items = await read.ConfigureAwait(false);
                for (int i = 0; i < unit.Count; i++)
                    yield return items[unit.Order is null ? i : unit.Order[i]];
                aheadItems -= unit.Count;
                aheadBytes -= unitBytes;
            }
        }
        finally
        {
            await cts.CancelAsync().ConfigureAwait(false);
            foreach (var (_, _, read) in queue)
            {
                try
                {
                    await read.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Read ahead for a consumer that stopped: nobody wants it.
                }
            }
        }
    }

    private static async Task PrefetchAsync(DatasetSnapshot snapshot, Chunk unit, bool runGrains, Action done)
    {
        try
        {
            await snapshot.PrefetchAsync(unit.Start, unit.Count, runGrains).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A hint: the read that follows fetches (and reports) anything still missing.
        }
        finally
        {
            done();
        }
    }
}
