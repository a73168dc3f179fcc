using System.Collections.Concurrent;
using OssOrleans.Client;

namespace OssOrleans.ClusterTests;

public sealed class OpenOrderPrefetchTests
{
    [Fact]
    public async Task OpenRead_SeveralObjectsBeforeReading_ClusterPrefetchesThemInOpenOrder()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 2, client: new OssClientOptions { OpenPrefetchBytes = 64L << 20 });
        string[] keys = ["order/c-first.bin", "order/a-second.bin", "order/b-third.bin"];
        foreach (var k in keys)
            c.PutRandom(k, 3 << 20);
        var arrivals = new ConcurrentQueue<string>();
        c.Origin.OnRequest = r => { if (r.Method == "GET") arrivals.Enqueue(r.Key); };

        var streams = new List<Stream>();
        foreach (var k in keys)
            streams.Add(await c.Client.OpenReadAsync(TestCacheCluster.Uri(k)));

        // Nothing is read yet: the cluster loads all three objects by itself.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (arrivals.Count < 9 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        var order = arrivals.ToList();
        Assert.True(order.Count == 9, $"waited 30 s for 9 shard GETs (3 objects x 3 shards); saw {order.Count}: {string.Join(", ", order)}");
        int lastOfFirst = order.LastIndexOf(keys[0]), firstOfSecond = order.IndexOf(keys[1]);
        int lastOfSecond = order.LastIndexOf(keys[1]), firstOfThird = order.IndexOf(keys[2]);
        Assert.True(lastOfFirst < firstOfSecond && lastOfSecond < firstOfThird, $"not in open order: {string.Join(", ", order)}");

        // Reading them now is served from the cluster: the origin sees no more GETs.
        foreach (var s in streams)
        {
            await s.CopyToAsync(Stream.Null);
            await s.DisposeAsync();
        }
        Assert.Equal(9, arrivals.Count);
    }
}
