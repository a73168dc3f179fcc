using Orleans.Runtime;
using OssOrleans.Client;

namespace OssOrleans.ClusterTests.Listing;

public sealed class ListSiloLossTests
{
    [Fact]
    public async Task FastList_SiloKilledMidListing_ResumesAndReturnsEveryKeyOnce()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 3, cache: o => o.ListPageSize = ListingFixture.PageSize);
        c.Origin.CreateBucket("list-loss");
        var keys = Keyspaces.Flat("k/", seed: 21, counters: 20_000, hex: 1000);
        c.Origin.PutSharedObjects("list-loss", keys, [1]);

        var seen = new List<string>(keys.Count);
        bool killed = false;
        var resumed = new System.Collections.Concurrent.ConcurrentBag<string>();
        var options = new ListOptions { Concurrency = 8, OnResume = (key, error) => resumed.Add($"{key}: {error.GetType().Name}") };
        await foreach (var entry in c.Client.ListAsync("oss://list-loss/k/", options).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token))
        {
            seen.Add(entry.Key);
            if (!killed && seen.Count == keys.Count / 4)
            {
                // Kill the silo (not the membership primary) that holds the most list partitions.
                killed = true;
                var stats = await c.Cluster.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
                var victim = c.Cluster.Silos.Skip(1)
                    .OrderByDescending(s => stats.Where(x => x.SiloAddress.Equals(s.SiloAddress) && x.GrainType.Contains("ListPartitionGrain", StringComparison.Ordinal)).Sum(x => x.ActivationCount))
                    .First();
                await c.Cluster.KillSiloAsync(victim);
            }
        }

        Assert.True(killed, "the listing ended before a silo was killed");
        Assert.True(!resumed.IsEmpty, "no partition stream was lost with the silo; the test did not exercise resuming");
        var duplicates = seen.GroupBy(k => k, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, $"keys listed twice: {string.Join(", ", duplicates)}");
        Assert.Equal(keys, seen.Order(KeyOrder.Comparer));
    }
}
