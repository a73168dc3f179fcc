using OssOrleans.Client;
using System.Runtime.InteropServices;

namespace OssOrleans.ClusterTests;

/// <summary>The data plane checks each shard's CRC-64 when it serves it.</summary>
public sealed class ShardIntegrityTests
{
    [Fact]
    public async Task Serve_ShardCorruptedInSiloMemory_IsRefusedCountedAndReloadedFromTheOrigin()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 1);
        var data = c.PutRandom("crc/a.bin", (3 << 20) + 5);
        string uri = TestCacheCluster.Uri("crc/a.bin");
        var info = await c.Client.StatAsync(uri);
        var location = await c.LocateAsync(info, 1);
        long handle = location.Handle;

        // A bit flipped in the cached copy (bad memory, a buffer reused too early): what the check exists for.
        var store = c.StoreOf(c.Cluster.Silos[0]);
        Assert.True(store.TryLease(handle, out var lease));
        using (lease)
            MemoryMarshal.AsMemory(lease.Memory).Span[12345] ^= 0x40;
        c.Origin.ResetCounters();

        // No open-order prefetch: its own load calls for the same shards would race the reader's reload (a CI run once
        // saw the dropped shard loaded twice), and what is counted here is the reader's path alone.
        var reader = OssCacheClient.FromClusterClient(c.Cluster.Client, new OssClientOptions { OpenPrefetchBytes = 0 });
        await using (reader)
        await using (var s = await reader.OpenReadAsync(uri))
            Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(1, stats.Sum(x => x.CrcFailures));
        // Shards 0, 2 and 3 were loaded for the first time, and shard 1 again after its copy was dropped: the whole object.
        Assert.Equal(data.Length, c.Origin.Counters.GetBodyBytes);
    }
}
