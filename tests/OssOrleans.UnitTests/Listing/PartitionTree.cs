using OssOrleans.Grains.Listing;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Listing;

/// <summary>
/// Runs the real <see cref="PartitionLister"/> and <see cref="ListRun"/> over a store for a whole partition tree, in
/// process and depth first, in the order a sorted client reads it: each partition's own entries, then its children by start.
/// </summary>
internal static class PartitionTree
{
    public sealed record Result(List<ObjectEntry> Entries, int Partitions);

    public static async Task<Result> ListAsync(IObjectStore store, ListPartitionKey root, int pageSize, int listSlots = 8)
    {
        var entries = new List<ObjectEntry>();
        int partitions = 0;
        var lister = new PartitionLister(store, new ListGate(listSlots), new ListSettings(pageSize));
        var budget = new ListCacheBudget(0);

        async Task VisitAsync(ListPartitionKey key)
        {
            partitions++;
            var run = new ListRun(cache: false, budget, ListSettings.Lookahead, DateTimeOffset.UnixEpoch);
            Assert.True(run.TryAttach(out var cursor));
            var producer = Task.Run(() => lister.RunAsync(key, run));
            var children = new List<ListPartitionKey>();
            await foreach (var chunk in run.ReadAsync(cursor).ConfigureAwait(false))
            {
                entries.AddRange(chunk.ReadEntries());
                children.AddRange(chunk.Children);
            }
            await producer.ConfigureAwait(false);
            children.Sort((a, b) => KeyOrder.Compare(a.StartAfter, b.StartAfter));
            foreach (var child in children)
            {
                Assert.True(child.StartAfter is not null && KeyOrder.Compare(child.StartAfter, key.StartAfter) > 0, $"child {child} does not start inside {key}");
                await VisitAsync(child).ConfigureAwait(false);
            }
        }

        await VisitAsync(root).ConfigureAwait(false);
        return new Result(entries, partitions);
    }
}
