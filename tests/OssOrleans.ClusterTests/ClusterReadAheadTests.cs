using System.Collections.Concurrent;
using OssOrleans.Client;

namespace OssOrleans.ClusterTests;

/// <summary>
/// A sequential reader keeps a deep queue of origin loads in the cluster (<see cref="OssClientOptions.ClusterReadAheadShards"/>)
/// while only its own read-ahead window of shards comes to the client.
/// </summary>
public sealed class ClusterReadAheadTests
{
    private const int Shard = 1 << 20;

    [Theory]
    [InlineData(5)]
    [InlineData(0)]
    public async Task OpenRead_FirstByte_ClusterLoadsShardsBeyondTheWindowWithoutSendingThem(int clusterAhead)
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 2,
            client: new OssClientOptions { ReadAheadShards = 2, ClusterReadAheadShards = clusterAhead, OpenPrefetchBytes = 0 });
        var data = c.PutRandom("ahead/big.bin", 20 * Shard);
        var ranges = new ConcurrentDictionary<string, int>();
        c.Origin.OnRequest = r =>
        {
            if (r.Method == "GET" && r.Headers.TryGetValue("Range", out var range))
                ranges.AddOrUpdate(range, 1, (_, n) => n + 1);
        };
        long servedBefore = (await c.Client.GetClusterStatsAsync()).Sum(s => s.BytesServed);

        await using var stream = await c.Client.OpenReadAsync(TestCacheCluster.Uri("ahead/big.bin"));
        var first = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(first));
        Assert.Equal(data[0], first[0]);

        // The shard read, the one more of the client's window, and clusterAhead beyond them: each loaded once.
        int expected = 2 + clusterAhead;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ranges.Count < expected && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        await Task.Delay(300);
        Assert.Equal(expected, ranges.Count);
        Assert.All(ranges.Values, n => Assert.Equal(1, n));
        Assert.Equal(Enumerable.Range(0, expected).Select(i => $"bytes={i * Shard}-{(i + 1) * Shard - 1}").Order(StringComparer.Ordinal),
            ranges.Keys.Order(StringComparer.Ordinal));
        // Only the client's window came over the data plane.
        long served = (await c.Client.GetClusterStatsAsync()).Sum(s => s.BytesServed) - servedBefore;
        Assert.Equal(2L * Shard, served);

        // Reading on to the end of shard 3 moves the window to shards 3-4 and the cluster's queue to shard 4 + clusterAhead.
        var rest = new byte[4 * Shard - 1];
        await stream.ReadExactlyAsync(rest);
        Assert.Equal(data.AsSpan(1, rest.Length).ToArray(), rest);
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (ranges.Count < Math.Min(20, 5 + clusterAhead) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal(Math.Min(20, 5 + clusterAhead), ranges.Count);
    }
}
