using OssOrleans.ClusterTests.Listing;
using OssOrleans.Grains.Listing;
using Xunit.Abstractions;

namespace OssOrleans.UnitTests.Listing;

public sealed class ListSplitterTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Debug_Awkward(int seed)
    {
        var keys = Keyspaces.Awkward("w/", seed, 3000);
        var store = new InMemoryListStore(keys);
        var r = await PartitionTree.ListAsync(store, new ListPartitionKey("b-b", "w/", null, true), 50);
        output.WriteLine($"seed {seed} keys {keys.Count} entries {r.Entries.Count} partitions {r.Partitions} depth {r.MaxDepth} requests {store.Requests}");
        foreach (var k in keys.Take(60)) output.WriteLine(k);
    }
}
