using OssOrleans.Grains.Listing;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Listing;

/// <summary>Runs the real <see cref="PartitionLister"/> over a store for a whole partition tree, in process, depth-first.</summary>
internal static class PartitionTree
{
    public sealed record Result(List<ObjectEntry> Entries, int Partitions, int MaxDepth)
    {
        public List<(ListPartitionKey Key, double Start, double End, int Entries)> Timeline { get; } = [];
    }

    public static async Task<Result> ListAsync(IObjectStore store, ListPartitionKey root, int pageSize, int concurrency = 16)
    {
        var entries = new List<ObjectEntry>();
        int partitions = 0, maxDepth = 0;
        var lister = new PartitionLister(store, new ListGate(concurrency), new ListSettings(pageSize));
        var budget = new ListCacheBudget(0);

        async Task VisitAsync(ListPartitionKey key, int depth)
        {
            partitions++;
            maxDepth = Math.Max(maxDepth, depth);
            var run = new ListRun(cache: false, budget, ListSettings.Lookahead, DateTimeOffset.UnixEpoch);
            Assert.True(run.TryAttach(out var cursor));
            var producer = Task.Run(() => lister.RunAsync(key, run));
            var children = new List<ListPartitionKey>();
            await foreach (var chunk in run.ReadAsync(cursor))
            {
                entries.AddRange(chunk.ReadEntries());
                children.AddRange(chunk.Children);
            }
            await producer;
            children.Sort((a, b) => KeyOrder.Compare(a.StartAfter, b.StartAfter));
            foreach (var child in children)
                await VisitAsync(child, depth + 1);
        }

        await VisitAsync(root, 0);
        return new Result(entries, partitions, maxDepth);
    }

    public static System.Collections.Concurrent.ConcurrentBag<(double, ListPartitionKey, int)> Splits { get; } = [];

    /// <summary>Lists the tree with up to <paramref name="readers"/> partitions read at once, like the unsorted client.</summary>
    public static async Task<Result> ListConcurrentlyAsync(IObjectStore store, ListPartitionKey root, int pageSize, int gate, int readers)
    {
        var entries = new System.Collections.Concurrent.ConcurrentBag<ObjectEntry[]>();
        int partitions = 0, pending = 1;
        var lister = new PartitionLister(store, new ListGate(gate), new ListSettings(pageSize));
        var budget = new ListCacheBudget(0);
        var work = System.Threading.Channels.Channel.CreateUnbounded<ListPartitionKey>();
        work.Writer.TryWrite(root);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var timeline = new System.Collections.Concurrent.ConcurrentBag<(ListPartitionKey, double, double, int)>();
        async Task WorkAsync()
        {
            await foreach (var key in work.Reader.ReadAllAsync())
            {
                Interlocked.Increment(ref partitions);
                double start = clock.Elapsed.TotalSeconds;
                int count = 0;
                var run = new ListRun(cache: false, budget, ListSettings.Lookahead, DateTimeOffset.UnixEpoch);
                run.TryAttach(out var cursor);
                var producer = Task.Run(() => lister.RunAsync(key, run));
                await foreach (var chunk in run.ReadAsync(cursor))
                {
                    count += chunk.Count;
                    entries.Add(chunk.ReadEntries());
                    if (chunk.Children.Length > 0)
                        Splits.Add((clock.Elapsed.TotalSeconds, key, chunk.Children.Length));
                    Interlocked.Add(ref pending, chunk.Children.Length);
                    foreach (var c in chunk.Children)
                        work.Writer.TryWrite(c);
                }
                await producer;
                timeline.Add((key, start, clock.Elapsed.TotalSeconds, count));
                if (Interlocked.Decrement(ref pending) == 0)
                    work.Writer.TryComplete();
            }
        }
        await Task.WhenAll(Enumerable.Range(0, readers).Select(_ => Task.Run(WorkAsync)));
        var result = new Result([.. entries.SelectMany(e => e)], partitions, 0);
        result.Timeline.AddRange(timeline);
        return result;
    }
}
