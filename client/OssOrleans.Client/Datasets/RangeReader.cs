namespace OssOrleans.Client.Datasets;

/// <summary>
/// Reads byte ranges of one pinned object version through the cluster's shard path: each shard covering the range is
/// loaded once per cluster and fetched over the data plane; the bytes are copied straight into the targets.
/// </summary>
internal static class RangeReader
{
    /// <summary>A destination for bytes [Start, Start + Buffer.Length) of the object.</summary>
    internal readonly record struct Target(long Start, Memory<byte> Buffer);

    /// <summary>Fills every target (sorted by start, all within the object) from the shards covering [first start, last end).</summary>
    public static async Task FillAsync(ShardFetcher shards, ObjectInfo info, IReadOnlyList<Target> targets, int concurrency, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
            return;
        long start = targets[0].Start, end = targets[^1].Start + targets[^1].Buffer.Length;
        if (end <= start)
            return;
        int first = (int)(start / info.ShardSize), last = (int)((end - 1) / info.ShardSize);
        if (first == last)
        {
            await FillFromShardAsync(shards, info, first, targets, cancellationToken).ConfigureAwait(false);
            return;
        }
        await Parallel.ForEachAsync(Enumerable.Range(first, last - first + 1),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            (i, ct) => new ValueTask(FillFromShardAsync(shards, info, i, targets, ct))).ConfigureAwait(false);
    }

    private static async Task FillFromShardAsync(ShardFetcher shards, ObjectInfo info, int index, IReadOnlyList<Target> targets, CancellationToken cancellationToken)
    {
        long shardStart = (long)index * info.ShardSize;
        long shardEnd = shardStart + info.Shard(index).LengthIn(info.Size);
        // Targets are sorted; this shard fills only the parts of them it covers, so parallel shards never overlap. One
        // request brings the span from the first covered byte to the last; gaps between targets (tar headers) are skipped.
        var parts = new List<(long From, long To, Target Target)>();
        foreach (var t in targets)
        {
            long tEnd = t.Start + t.Buffer.Length;
            if (tEnd <= shardStart || t.Buffer.Length == 0)
                continue;
            if (t.Start >= shardEnd)
                break;
            parts.Add((Math.Max(t.Start, shardStart), Math.Min(tEnd, shardEnd), t));
        }
        if (parts.Count == 0)
            return;
        long spanFrom = parts[0].From, spanTo = parts[^1].To;
        await shards.FetchSpanAsync(info, index, (int)(spanFrom - shardStart), (int)(spanTo - spanFrom), async (body, ct) =>
        {
            long at = spanFrom;
            byte[]? gap = null;
            foreach (var (from, to, t) in parts)
            {
                for (long skip = from - at; skip > 0;)
                {
                    gap ??= new byte[16 * 1024];
                    int n = (int)Math.Min(skip, gap.Length);
                    await body.ReadExactlyAsync(gap.AsMemory(0, n), ct).ConfigureAwait(false);
                    skip -= n;
                }
                await body.ReadExactlyAsync(t.Buffer.Slice((int)(from - t.Start), (int)(to - from)), ct).ConfigureAwait(false);
                at = to;
            }
        }, cancellationToken).ConfigureAwait(false);
    }
}
