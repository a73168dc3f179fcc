using OssOrleans.Client;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests;

public sealed class CapacityTests
{
    [Fact]
    public async Task OpenRead_ObjectLargerThanCache_StaysCorrectAndWithinCapacity()
    {
        const int shard = 1 << 20;
        const long capacity = 8L * shard;
        const int originConcurrency = 4;
        await using var c = await TestCacheCluster.StartAsync(
            silos: 3,
            cache: o => { o.CapacityBytes = capacity; o.MaxOriginConcurrency = originConcurrency; },
            client: new OssClientOptions { ReadAheadShards = 4, OpenPrefetchBytes = 0 });
        const int size = 64 << 20;  // 64 shards against 24 shards of cache in the whole cluster
        var data = c.PutRandom("cap/big.bin", size);

        var stores = c.Cluster.Silos.Select(c.StoreOf).ToList();
        long maxUsed = 0, maxAllocated = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                foreach (var s in stores)
                {
                    maxUsed = Math.Max(maxUsed, s.UsedBytes);
                    maxAllocated = Math.Max(maxAllocated, s.AllocatedBytes);
                }
                await Task.Delay(1);
            }
        });

        for (int pass = 0; pass < 2; pass++)
        {
            await using var stream = await c.Client.OpenReadAsync(TestCacheCluster.Uri("cap/big.bin"));
            Assert.Equal(data, await ReadAllAsync(stream));
        }
        await sampling.CancelAsync();
        await sampler;

        Assert.True(maxUsed <= capacity, $"a silo held {maxUsed} bytes of shards; capacity is {capacity}");
        // Stated overhead: shards being loaded (the origin concurrency) plus evicted shards still being sent (the client's read-ahead).
        long bound = capacity + (originConcurrency + 4L) * shard;
        Assert.True(maxAllocated <= bound, $"a silo had {maxAllocated} bytes of shard buffers allocated; the bound is {bound}");
        Assert.True(stores.Sum(s => s.Evictions) > 0, "a cache smaller than the object must evict");
    }
}
