using Orleans.Runtime;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests.Listing;

/// <summary>List caching by TTL (the fake clock), loop protection against a misbehaving origin, and spreading over silos.</summary>
[Collection(ListingCollection.Name)]
public sealed class ListCacheAndLoopTests(ListingFixture fixture)
{
    private ListingFixture F => fixture;

    [Fact]
    public async Task FastList_SecondClientWithinTtl_MakesNoOriginRequests()
    {
        string bucket = F.Bucket("list-ttl", Keyspaces.Flat("t/", seed: 11, counters: 4000, hex: 500));
        string uri = $"oss://{bucket}/t/";
        var (first, partitions) = await F.Cluster.Client.ListAsync(uri, fast: true);
        Assert.True(partitions > 1, $"expected the listing to split, read {partitions} partition(s)");

        F.Origin.ResetCounters();
        await using var other = OssCacheClient.FromClusterClient(F.Cluster.Cluster.Client);
        var (second, _) = await other.ListAsync(uri, fast: true, sorted: true);
        Assert.Equal(0, F.Origin.Counters.Lists);
        Assert.Equal(first.Select(e => e.Key).Order(KeyOrder.Comparer), second.Select(e => e.Key));

        F.Cluster.Clock.Advance(TimeSpan.FromSeconds(31));
        var (third, _) = await other.ListAsync(uri, fast: true);
        long pages = (first.Count + ListingFixture.PageSize - 1) / ListingFixture.PageSize;
        Assert.True(F.Origin.Counters.Lists >= pages, $"after the TTL the listing should page the origin again: {F.Origin.Counters.Lists} list requests for {pages} pages");
        Assert.Equal(first.Count, third.Count);
    }

    [Fact]
    public async Task List_OriginTruncatedWithoutToken_FailsWithClearError()
    {
        string bucket = F.Bucket("list-no-token", Keyspaces.Flat("n/", seed: 12, counters: 2000, hex: 0));
        F.Origin.Faults.ListTruncatedWithoutToken(100_000);
        try
        {
            foreach (bool fast in new[] { false, true })
            {
                var error = await Assert.ThrowsAsync<OriginFailedException>(() =>
                    F.Cluster.Client.ListAsync($"oss://{bucket}/n/", fast).WaitAsync(TimeSpan.FromSeconds(30)));
                Assert.Contains("no NextContinuationToken", error.Message, StringComparison.Ordinal);
                Assert.Contains($"oss://{bucket}/n/", error.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            F.Origin.Faults.Clear();
        }
        // A failed listing is not cached: the next one, with the origin well again, is complete.
        var (entries, _) = await F.Cluster.Client.ListAsync($"oss://{bucket}/n/", fast: true);
        Assert.Equal(2000 + 7, entries.Count);
    }

    [Fact]
    public async Task List_OriginCyclesThroughTokens_FailsWithClearError()
    {
        string bucket = F.Bucket("list-token-loop", Keyspaces.Flat("l/", seed: 13, counters: 2000, hex: 0));
        F.Origin.Faults.ListTokenLoop(100_000);
        try
        {
            foreach (bool fast in new[] { false, true })
            {
                var error = await Assert.ThrowsAsync<OriginFailedException>(() =>
                    F.Cluster.Client.ListAsync($"oss://{bucket}/l/", fast).WaitAsync(TimeSpan.FromSeconds(30)));
                Assert.Contains("repeated an earlier continuation token", error.Message, StringComparison.Ordinal);
            }
            Assert.True(F.Origin.Counters.FaultsInjected > 0, "the token loop fault was never taken");
        }
        finally
        {
            F.Origin.Faults.Clear();
        }
    }

    [Fact]
    public async Task List_MissingBucket_ThrowsOssObjectNotFound()
    {
        foreach (bool fast in new[] { false, true })
        {
            var error = await Assert.ThrowsAsync<OssObjectNotFoundException>(() =>
                F.Cluster.Client.ListAsync("oss://no-such-bucket/p/", fast).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("no-such-bucket", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FastList_ConsumerStopsEarly_EndsPromptlyAndLaterListingsAreWhole()
    {
        string bucket = F.Bucket("list-early-stop", Keyspaces.Flat("e/", seed: 15, counters: 10_000, hex: 0));
        int taken = 0;
        await foreach (var _ in F.Cluster.Client.ListAsync($"oss://{bucket}/e/", new ListOptions { Sorted = true }).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            if (++taken == 120)
                break;
        }
        var (entries, _) = await F.Cluster.Client.ListAsync($"oss://{bucket}/e/", fast: true);
        Assert.Equal(10_000 + 7, entries.Count);
    }

    [Fact]
    public async Task FastList_LargeKeyspace_ListsOnSeveralSilos()
    {
        string bucket = F.Bucket("list-spread", Keyspaces.Flat("s/", seed: 14, counters: 20_000, hex: 0));
        var (entries, partitions) = await F.Cluster.Client.ListAsync($"oss://{bucket}/s/", fast: true);
        Assert.Equal(20_000 + 7, entries.Count);

        var management = F.Cluster.SiloGrains.GetGrain<IManagementGrain>(0);
        var statistics = await management.GetSimpleGrainStatistics();
        var silos = statistics.Where(s => s.GrainType.Contains("ListPartitionGrain", StringComparison.Ordinal) && s.ActivationCount > 0)
            .Select(s => s.SiloAddress).Distinct().Count();
        Assert.True(silos >= 2, $"{partitions} partitions were active on {silos} silo(s); expected at least 2 of 3");
    }
}

/// <summary>A one-silo cluster with list caching off (ListCacheTtl = 0).</summary>
public sealed class UncachedListingFixture : IAsyncLifetime
{
    public TestCacheCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await TestCacheCluster.StartAsync(silos: 1, cache: o => { o.ListPageSize = ListingFixture.PageSize; o.ListCacheTtl = TimeSpan.Zero; });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class UncachedListTests(UncachedListingFixture fixture) : IClassFixture<UncachedListingFixture>
{
    [Fact]
    public async Task FastList_TtlZero_EveryListingAsksTheOrigin()
    {
        var c = fixture.Cluster;
        c.Origin.CreateBucket("list-uncached");
        c.Origin.PutSharedObjects("list-uncached", Enumerable.Range(0, 1500).Select(i => $"u/{i:D5}"), [1]);
        var (first, _) = await c.Client.ListAsync("oss://list-uncached/u/", fast: true);
        long afterFirst = c.Origin.Counters.Lists;
        var (second, _) = await c.Client.ListAsync("oss://list-uncached/u/", fast: true);
        long secondLists = c.Origin.Counters.Lists - afterFirst;

        Assert.Equal(1500, first.Count);
        Assert.Equal(1500, second.Count);
        Assert.True(secondLists >= 1500 / ListingFixture.PageSize, $"with caching off the second listing made {secondLists} list requests; expected at least {1500 / ListingFixture.PageSize}");
    }
}
