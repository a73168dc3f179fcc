using Orleans.Runtime;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests.Listing;

public sealed class ListSiloLossTests
{
    [Fact]
    public async Task FastList_SiloKilledMidListing_ResumesAndReturnsEveryKeyOnce()
    {
        // Slow pages (100 ms) keep every partition's stream open for several pages, so the partitions started last are
        // still listing when the silo dies. With fast pages a small partition could be delivered whole (its stream
        // already complete on the client) before the kill, and sometimes no open stream was lost at all.
        await using var c = await TestCacheCluster.StartAsync(silos: 3, cache: o => o.ListPageSize = ListingFixture.PageSize,
            origin: new SimulatorSettings { ListLatency = TimeSpan.FromMilliseconds(100) });
        c.Origin.CreateBucket("list-loss");
        var keys = Keyspaces.Flat("k/", seed: 21, counters: 20_000, hex: 1000);
        c.Origin.PutSharedObjects("list-loss", keys, [1]);

        var seen = new List<string>(keys.Count);
        bool killed = false;
        var started = new System.Collections.Concurrent.ConcurrentQueue<ListPartitionKey>();
        var resumed = new System.Collections.Concurrent.ConcurrentBag<string>();
        var options = new ListOptions
        {
            Concurrency = 16,
            OnPartition = started.Enqueue,
            OnResume = (key, error) => resumed.Add($"{key}: {error.GetType().Name}"),
        };
        await foreach (var entry in c.Client.ListAsync("oss://list-loss/k/", options).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token))
        {
            seen.Add(entry.Key);
            if (!killed && seen.Count == keys.Count / 4)
            {
                killed = true;
                var victim = await PickVictimAsync(c, started.ToArray());
                await c.Cluster.KillSiloAsync(victim);
            }
        }

        Assert.True(killed, "the listing ended before a silo was killed");
        Assert.True(!resumed.IsEmpty, "no partition stream was lost with the silo; the test did not exercise resuming");
        var duplicates = seen.GroupBy(k => k, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, $"keys listed twice: {string.Join(", ", duplicates)}");
        Assert.Equal(keys, seen.Order(KeyOrder.Comparer));
    }

    /// <summary>
    /// Picks the silo (not the membership primary) that hosts the most of the partitions started last. While this
    /// consumer pauses, the listing workers fill the bounded output and block, each holding the stream of the partition
    /// it started last; so killing that silo loses at least one open stream. (Picking by activation count alone was
    /// flaky: finished partitions stay activated for their cache TTL, and sometimes every open stream was elsewhere.)
    /// </summary>
    private static async Task<Orleans.TestingHost.InProcessSiloHandle> PickVictimAsync(TestCacheCluster c, ListPartitionKey[] started)
    {
        await Task.Delay(300);
        var management = c.SiloGrains.GetGrain<IManagementGrain>(0);
        var hosts = new Dictionary<SiloAddress, int>();
        foreach (var key in started.TakeLast(16))
        {
            var grain = c.Cluster.Client.GetGrain<IListPartitionGrain>(key.ToGrainKey());
            if (await management.GetActivationAddress(grain) is { } silo)
                hosts[silo] = hosts.GetValueOrDefault(silo) + 1;
        }
        return c.Cluster.Silos.Skip(1).OrderByDescending(s => hosts.GetValueOrDefault(s.SiloAddress)).First();
    }
}
