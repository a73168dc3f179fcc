namespace OssOrleans.Client.Datasets;

/// <summary>
/// A run of contiguous items [Start, Start + Count), yielded in <see cref="Order"/> (offsets into the run; null: in order).
/// It is the unit of shuffling, sharding and (for a tar) reading.
/// </summary>
internal readonly record struct Chunk(int Start, int Count, int[]? Order)
{
    public int ItemAt(int i) => Start + (Order is null ? i : Order[i]);
}

/// <summary>
/// The deterministic chunk shuffle: the snapshot is cut into chunks, the chunks are permuted from (seed, epoch), the items
/// inside each chunk too, and the permuted chunks are dealt round-robin to the (rank, worker) shards. Every item lands in
/// exactly one chunk and every chunk in exactly one shard, so each epoch covers each item exactly once across all shards.
/// The generator is SplitMix64, spelled out here, so the order never changes with the runtime version.
/// </summary>
internal static class ChunkPlan
{
    /// <summary>The chunks of one shard, in the order it reads them.</summary>
    public static List<Chunk> ForShard(int count, DatasetOptions options, bool varySizes, int epoch)
    {
        var chunks = Cut(count, options.ChunkSize, varySizes ? options.ChunkSizeDeviation : 0, options.Seed, epoch);
        if (options.Shuffle)
        {
            var rng = new SplitMix64(Mix(options.Seed, epoch, 0x5EED));
            Permute(chunks, ref rng);
        }
        var mine = new List<Chunk>(chunks.Count / options.Shards + 1);
        for (int j = options.ShardIndex; j < chunks.Count; j += options.Shards)
        {
            var c = chunks[j];
            if (options.Shuffle && c.Count > 1)
            {
                var order = new int[c.Count];
                for (int i = 0; i < order.Length; i++)
                    order[i] = i;
                var rng = new SplitMix64(Mix(options.Seed, epoch, c.Start));
                Permute(order, ref rng);
                c = c with { Order = order };
            }
            mine.Add(c);
        }
        return mine;
    }

    /// <summary>Cuts [0, count) into runs of <paramref name="mean"/> items, or Gaussian-varied sizes around it (clamped to [1, 3 x mean]).</summary>
    public static List<Chunk> Cut(int count, int mean, double deviation, int seed, int epoch)
    {
        var chunks = new List<Chunk>(count / mean + 1);
        var rng = new SplitMix64(Mix(seed, epoch, 0xC4A7));
        for (int start = 0; start < count;)
        {
            int size = mean;
            if (deviation > 0)
            {
                double g = rng.NextGaussian();
                size = (int)Math.Round(mean + g * deviation * mean);
                size = Math.Clamp(size, 1, 3 * mean);
            }
            size = Math.Min(size, count - start);
            chunks.Add(new Chunk(start, size, null));
            start += size;
        }
        return chunks;
    }

    private static void Permute<T>(IList<T> items, ref SplitMix64 rng)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = (int)rng.NextBelow((ulong)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(int seed, int epoch, long salt) =>
        SplitMix64.Scramble(((ulong)(uint)seed << 32) ^ (uint)epoch ^ SplitMix64.Scramble((ulong)salt));

    internal struct SplitMix64(ulong state)
    {
        private ulong _state = state;

        public ulong Next() => Scramble(_state += 0x9E3779B97F4A7C15UL);

        public static ulong Scramble(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        // Unbiased: rejects the top sliver of the range that would favour small values.
        public ulong NextBelow(ulong bound)
        {
            ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
            ulong v;
            do
            {
                v = Next();
            }
            while (v >= limit);
            return v % bound;
        }

        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        // Box-Muller.
        public double NextGaussian()
        {
            double u1 = 1.0 - NextDouble(), u2 = NextDouble();
            return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
    }
}
