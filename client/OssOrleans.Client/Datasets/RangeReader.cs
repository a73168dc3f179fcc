namespace OssOrleans.Client.Datasets;

/// <summary>
/// Reads byte ranges of one pinned object version through the cluster's shard path: each shard covering the range is
/// loaded once per cluster and fetched over the data plane; the bytes are copied straight into the targets.
/// </summary>
internal static class RangeReader
{
    /// <summary>A destination for bytes [Start, Start + Buffer.Length) of the object.</summary>
    internal readonly record struct Target(long Start, byte[] Buffer);

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
        using var shard = await shards.FetchAsync(info, index, cancellationToken).ConfigureAwait(false);
        long shardEnd = shardStart + shard.Length;
        var bytes = shard.Memory.Span;
        // Targets are sorted; each shard writes only the parts of them it covers, so parallel shards never overlap.
        foreach (var t in targets)
        {
            long tEnd = t.Start + t.Buffer.Length;
            if (tEnd <= shardStart)
                continue;
            if (t.Start >= shardEnd)
                break;
            long from = Math.Max(t.Start, shardStart), to = Math.Min(tEnd, shardEnd);
            bytes.Slice((int)(from - shardStart), (int)(to - from)).CopyTo(t.Buffer.AsSpan((int)(from - t.Start)));
        }
    }
}
