using OssOrleans.Client;
using OssOrleans.TestKit;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests.Checkpoints;

/// <summary>
/// Against an origin that reports the CRC-64 of each stored part (as OSS does), a silo checks its uploads by that CRC,
/// computed once with the staged shards' CRCs (1 MiB shards combined into 8 MiB parts here), instead of signing SHA-256.
/// </summary>
public sealed class CheckpointCrcTests
{
    [Fact]
    public async Task OpenWrite_OriginReportsPartCrcs_PartsCheckedByCrcAndDamagedAttemptsSentAgain()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 1, origin: new SimulatorSettings { Crc64Header = true });
        const string key = "ckpt/crc-checked.bin";
        var data = CheckpointWriteTests.RandomBytes((24 << 20) + 777, seed: 11);
        c.Origin.Faults.CorruptUploadedPart(2);

        await using (var w = await c.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { PartSize = 8 << 20, UploadConcurrency = 1 }))
        {
            await w.WriteAsync(data);
            await w.CompleteAsync();
        }

        var counters = c.Origin.Counters;
        Assert.Equal(2, counters.FaultsInjected);
        // Part 1 three times (two damaged attempts noticed by their CRC, then a good one), parts 2-4 once each.
        Assert.Equal(6, counters.UploadParts);
        // Part 1 went signed; once its answer had shown a CRC, parts 2-4 went unsigned.
        Assert.Equal(3, counters.UnsignedPayloads);
        Assert.Equal(data, c.Origin.GetObjectBytes(TestCacheCluster.Bucket, key));
        await using var r = await c.Client.OpenReadAsync(TestCacheCluster.Uri(key));
        Assert.Equal(data, await ReadAllAsync(r));
    }
}
