using System.Runtime.CompilerServices;
using Orleans.Runtime;

namespace OssOrleans.Client.Listing;

/// <summary>
/// Reads one list partition's stream, resuming when the stream is lost: the partition's silo went away, the partition
/// was deactivated, or the silo dropped the enumeration because the consumer paused longer than its idle limit (about a
/// minute in Orleans). A resumed read asks for the part of the partition not delivered yet and not handed to children:
/// (last entry delivered, first child's start], a partition of its own, so the whole listing stays exact.
/// </summary>
internal sealed class PartitionReader(IClusterClient cluster, Action<ListPartitionKey, Exception>? onResume = null)
{
    /// <summary>Chunks per grain message: at most 2 x 1000 entries, about 0.3 MB.</summary>
    private const int ChunksPerMessage = 2;

    /// <summary>Consecutive failed attempts (without a chunk between them) before the error reaches the caller.</summary>
    private const int MaxAttempts = 5;

    public async IAsyncEnumerable<ListChunk> ReadAsync(ListPartitionKey key, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? lastEntry = null, firstChild = null;
        Exception? lastError = null;
        int failures = 0;
        var current = key;
        while (true)
        {
            var grain = cluster.GetGrain<IListPartitionGrain>(current.ToGrainKey());
            var stream = grain.ListAsync().WithBatchSize(ChunksPerMessage).GetAsyncEnumerator(cancellationToken);
            bool lost = false;
            try
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await stream.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsLostStream(ex) && !cancellationToken.IsCancellationRequested && ++failures < MaxAttempts)
                    {
                        lost = true;
                        lastError = ex;
                        break;
                    }
                    if (!more)
                        yield break;
                    failures = 0;
                    var chunk = stream.Current;
                    if (chunk.LastKey is not null)
                        lastEntry = chunk.LastKey;
                    foreach (var child in chunk.Children)
                    {
                        if (firstChild is null || KeyOrder.Compare(child.StartAfter, firstChild) < 0)
                            firstChild = child.StartAfter;
                    }
                    yield return chunk;
                }
            }
            finally
            {
                await DisposeQuietlyAsync(stream).ConfigureAwait(false);
            }
            if (!lost)
                yield break;
            onResume?.Invoke(current, lastError!);
            string? start = lastEntry ?? key.StartAfter;
            string? end = firstChild ?? key.EndAt;
            if (start is not null && end is not null && KeyOrder.Compare(start, end) >= 0)
                yield break;
            await Task.Delay(TimeSpan.FromMilliseconds(50 << failures), cancellationToken).ConfigureAwait(false);
            current = key.WithRange(start, end);
        }
    }

    private static bool IsLostStream(Exception ex) =>
        ex is EnumerationAbortedException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<ListChunk> stream)
    {
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Disposing tells the silo to drop the enumeration; when the silo is gone there is nothing to tell.
        }
    }
}
