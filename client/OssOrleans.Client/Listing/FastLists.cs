using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace OssOrleans.Client.Listing;

/// <summary>A plain list: the root partition pages through the prefix sequentially, in key order.</summary>
internal static class PlainList
{
    public static async IAsyncEnumerable<ObjectEntry> ReadAsync(PartitionReader reader, ListPartitionKey root, ListOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options.OnPartition?.Invoke(root);
        await foreach (var chunk in reader.ReadAsync(root, cancellationToken).ConfigureAwait(false))
        {
            foreach (var entry in chunk.ReadEntries())
                yield return entry;
        }
    }
}

/// <summary>
/// A fast list in any order: up to <see cref="ListOptions.Concurrency"/> workers each read one partition at a time and
/// queue the children it announces; entries go through one bounded channel, so a slow consumer holds the workers back
/// (and they the partitions) instead of buffering without limit.
/// </summary>
internal static class UnsortedFastList
{
    /// <summary>Batches (of up to 1000 entries) waiting for the consumer.</summary>
    private const int OutputBatches = 16;

    public static async IAsyncEnumerable<ObjectEntry> ReadAsync(PartitionReader reader, ListPartitionKey root, ListOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var output = Channel.CreateBounded<ObjectEntry[]>(new BoundedChannelOptions(OutputBatches) { SingleReader = true });
        var work = Channel.CreateUnbounded<ListPartitionKey>();
        int pending = 1;
        work.Writer.TryWrite(root);

        async Task WorkAsync()
        {
            await foreach (var key in work.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                options.OnPartition?.Invoke(key);
                await foreach (var chunk in reader.ReadAsync(key, stop.Token).ConfigureAwait(false))
                {
                    if (chunk.Children.Length > 0)
                    {
                        Interlocked.Add(ref pending, chunk.Children.Length);
                        foreach (var child in chunk.Children)
                            work.Writer.TryWrite(child);
                    }
                    if (chunk.Count > 0)
                        await output.Writer.WriteAsync(chunk.ReadEntries(), stop.Token).ConfigureAwait(false);
                }
                if (Interlocked.Decrement(ref pending) == 0)
                    work.Writer.TryComplete();
            }
        }

        async Task RunAsync()
        {
            var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(WorkAsync)).ToList();
            while (workers.Count > 0)
            {
                var done = await Task.WhenAny(workers).ConfigureAwait(false);
                workers.Remove(done);
                if (done.Exception is { } failed)
                {
                    // The first failure ends the listing; the other workers stop.
                    output.Writer.TryComplete(failed.InnerException ?? failed);
                    await stop.CancelAsync().ConfigureAwait(false);
                }
            }
            output.Writer.TryComplete();
        }

        var running = RunAsync();
        try
        {
            await foreach (var batch in output.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var entry in batch)
                    yield return entry;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await running.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}

/// <summary>
/// A fast list in key order. A partition's own entries precede its children's, and its children (ranges that tile the rest
/// of its range) go in order of their start; so the consumer reads partitions depth-first in that order, while up to
/// <see cref="ListOptions.Concurrency"/> partitions ahead of it (the current one's children first) are read into
/// bounded buffers of packed chunks.
/// </summary>
internal static class SortedFastList
{
    /// <summary>
    /// Chunks each partition read ahead may buffer, still packed (a 1000-entry chunk is about 20 KB): with 16, most
    /// partitions are read whole before the consumer reaches them, so key order costs little speed.
    /// </summary>
    private const int ChunksPerPartition = 16;

    public static async IAsyncEnumerable<ObjectEntry> ReadAsync(PartitionReader reader, ListPartitionKey root, ListOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var upcoming = new LinkedList<ListPartitionKey>();
        var started = new Dictionary<ListPartitionKey, Feed>();
        var all = new List<Feed>();
        upcoming.AddFirst(root);

        Feed Start(ListPartitionKey key)
        {
            options.OnPartition?.Invoke(key);
            var feed = new Feed(reader, key, stop.Token);
            started[key] = feed;
            all.Add(feed);
            return feed;
        }

        // Starts partitions in output order, as far as it is known: the current partition's children, then the upcoming
        // partitions, each followed by the children its feed announced so far (depth first), until the window is full.
        void ReadAhead(Feed current)
        {
            if (started.Count >= options.Concurrency)
                return;
            foreach (var key in current.ChildrenSoFar().SelectMany(Subtree).Concat(upcoming.SelectMany(Subtree)))
            {
                if (started.Count >= options.Concurrency)
                    break;
                if (!started.ContainsKey(key))
                    Start(key);
            }
        }

        IEnumerable<ListPartitionKey> Subtree(ListPartitionKey key)
        {
            yield return key;
            if (started.TryGetValue(key, out var feed))
            {
                foreach (var child in feed.ChildrenSoFar().SelectMany(Subtree))
                    yield return child;
            }
        }

        try
        {
            while (upcoming.First is { } node)
            {
                upcoming.RemoveFirst();
                if (!started.Remove(node.Value, out var feed))
                {
                    feed = Start(node.Value);
                    started.Remove(node.Value);
                }
                ReadAhead(feed);
                await foreach (var chunk in feed.Chunks.ReadAllAsync(stop.Token).ConfigureAwait(false))
                {
                    foreach (var entry in chunk.ReadEntries())
                        yield return entry;
                    ReadAhead(feed);
                }
                var children = feed.ChildrenSoFar();
                for (int i = children.Count - 1; i >= 0; i--)
                    upcoming.AddFirst(children[i]);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var feed in all)
                await feed.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One partition read ahead into a bounded buffer; its children are collected as they are announced.</summary>
    private sealed class Feed
    {
        private readonly Channel<ListChunk> _chunks = Channel.CreateBounded<ListChunk>(new BoundedChannelOptions(ChunksPerPartition) { SingleReader = true, SingleWriter = true });
        private readonly List<ListPartitionKey> _children = [];
        private readonly Task _pump;

        public Feed(PartitionReader reader, ListPartitionKey key, CancellationToken cancellationToken) =>
            _pump = Task.Run(() => PumpAsync(reader, key, cancellationToken), CancellationToken.None);

        public ChannelReader<ListChunk> Chunks => _chunks.Reader;

        /// <summary>The children announced so far, in key order (final once <see cref="Chunks"/> is complete).</summary>
        public List<ListPartitionKey> ChildrenSoFar()
        {
            lock (_children)
            {
                var sorted = new List<ListPartitionKey>(_children);
                sorted.Sort((a, b) => KeyOrder.Compare(a.StartAfter, b.StartAfter));
                return sorted;
            }
        }

        public async Task StopAsync()
        {
            try
            {
                await _pump.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Reported through Chunks to the consumer, if it was still reading.
            }
        }

        private async Task PumpAsync(PartitionReader reader, ListPartitionKey key, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var chunk in reader.ReadAsync(key, cancellationToken).ConfigureAwait(false))
                {
                    if (chunk.Children.Length > 0)
                    {
                        lock (_children)
                            _children.AddRange(chunk.Children);
                    }
                    if (chunk.Count > 0)
                        await _chunks.Writer.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                }
                _chunks.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _chunks.Writer.TryComplete(ex);
                throw;
            }
        }
    }
}
