using System.Net;

namespace OssOrleans.ClusterTests;

/// <summary>Ranged reads fetch only the bytes asked for from the data plane, straight into the caller's buffer.</summary>
public sealed class RangeReadTests
{
    [Fact]
    public async Task ReadRange_InsideAndAcrossShards_ServesOnlyTheRequestedBytes()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 2);
        var data = c.PutRandom("range/a.bin", (3 << 20) + 999);
        string uri = TestCacheCluster.Uri("range/a.bin");

        var inside = new byte[1000];
        Assert.Equal(1000, await c.Client.ReadRangeAsync(uri, (1 << 20) + 12_345, inside));
        Assert.Equal(data.AsSpan((1 << 20) + 12_345, 1000).ToArray(), inside);

        // 100 bytes before the end of shard 1 to 100 bytes into shard 3, crossing shard 2 whole.
        var across = new byte[(1 << 20) + 200];
        long start = (2L << 20) - 100;
        Assert.Equal(across.Length, await c.Client.ReadRangeAsync(uri, start, across));
        Assert.Equal(data.AsSpan((int)start, across.Length).ToArray(), across);

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(1000 + across.Length, stats.Sum(s => s.BytesServed));
    }

    [Fact]
    public async Task DataPlane_PartOutsideTheShard_Is416()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 1);
        c.PutRandom("range/b.bin", 5000);
        var info = await c.Client.StatAsync(TestCacheCluster.Uri("range/b.bin"));
        var location = await c.LocateAsync(info, 0);
        using var http = new HttpClient();
        foreach (var query in new[] { "?o=4000&n=1001", "?o=-1&n=10", "?o=10", "?n=x&o=1" })
        {
            using var response = await http.GetAsync(TestCacheCluster.ShardUrl(location) + "&" + query[1..]);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        }
        using var ok = await http.GetAsync(TestCacheCluster.ShardUrl(location) + "&o=4000&n=1000");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(1000, (await ok.Content.ReadAsByteArrayAsync()).Length);
    }
}
