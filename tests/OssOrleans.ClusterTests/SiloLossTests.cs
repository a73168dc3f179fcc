using System.Security.Cryptography;
using OssOrleans.Client;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests;

public sealed class SiloLossTests
{
    [Fact]
    public async Task OpenRead_SiloKilledMidRead_CompletesWithCorrectBytesAndBoundedRefetch()
    {
        var clientOptions = new OssClientOptions { ReadAheadShards = 4 };
        await using var c = await TestCacheCluster.StartAsync(silos: 3, client: clientOptions);
        const int size = 96 << 20;
        const int shard = 1 << 20;
        var data = c.PutRandom("loss/model.bin", size);
        var uri = TestCacheCluster.Uri("loss/model.bin");

        await using var stream = await c.Client.OpenReadAsync(uri);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[shard];
        long read = 0;
        while (read < size / 3)
        {
            int n = await stream.ReadAsync(buffer);
            sha.AppendData(buffer, 0, n);
            read += n;
        }

        // Kill a silo that is not the membership primary, holding whatever shards it holds.
        var victim = c.Cluster.Silos[^1];
        int lost = c.StoreOf(victim).Count;
        long originBefore = c.Origin.Counters.GetBodyBytes;
        await c.Cluster.KillSiloAsync(victim);

        int n2;
        while ((n2 = await stream.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n2);
            read += n2;
        }

        Assert.Equal(size, read);
        Assert.Equal(SHA256.HashData(data), sha.GetHashAndReset());
        // Re-reads: at most the shards the lost silo held, plus those in flight (read-ahead and open-order prefetch).
        long refetched = c.Origin.Counters.GetBodyBytes - size;
        int inFlight = clientOptions.ReadAheadShards + 8;
        Assert.True(refetched <= (long)(lost + inFlight) * shard,
            $"origin re-served {refetched} bytes; allowed {(lost + inFlight)} shards ({lost} lost + {inFlight} in flight). before kill: {originBefore}");
    }
}
