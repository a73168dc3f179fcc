using System.Security.Cryptography;
using OssOrleans.Client;
using OssOrleans.TestKit;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests;

public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCacheCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCacheCluster.StartAsync(silos: 3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Reads through a 3-silo cluster whose origin is the simulator. Tests in this class run one after another.</summary>
public sealed class ClusterReadTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private TestCacheCluster C => fixture.Cluster;

    [Fact]
    public async Task OpenRead_ThreeClientsAtOnce_OriginServesEachByteOnce()
    {
        const int size = 256 << 20;
        var data = C.PutRandom("a/256mib.bin", size);
        var expected = SHA256.HashData(data);
        C.Origin.ResetCounters();

        // Three independent readers (own HTTP connections, streams and read-ahead) sharing the test cluster's Orleans connection;
        // the fleet benchmark runs the same read from three separate processes.
        var others = Enumerable.Range(0, 2).Select(_ => OssCacheClient.FromClusterClient(C.Cluster.Client)).ToList();
        try
        {
            var readers = new[] { C.Client }.Concat(others).Select(async client =>
            {
                await using var stream = await client.OpenReadAsync(TestCacheCluster.Uri("a/256mib.bin"));
                return await HashToEndAsync(stream);
            }).ToList();
            var results = await Task.WhenAll(readers);

            foreach (var (hash, length) in results)
            {
                Assert.Equal(size, length);
                Assert.Equal(expected, hash);
            }
            Assert.Equal(size, C.Origin.Counters.GetBodyBytes);
            Assert.Equal(256, C.Origin.Counters.Gets);
        }
        finally
        {
            foreach (var o in others)
                await o.DisposeAsync();
        }
    }

    [Fact]
    public async Task OpenRead_AfterOverwriteAndTtl_ReturnsOnlyNewBytes()
    {
        var v1 = C.PutRandom("b/versioned.bin", 5 << 20, seed: 1);
        await using (var s = await C.Client.OpenReadAsync(TestCacheCluster.Uri("b/versioned.bin")))
            Assert.Equal(v1, await ReadAllAsync(s));

        var v2 = C.PutRandom("b/versioned.bin", 6 << 20, seed: 2);
        // Within the TTL the cluster may still answer with the old version, whole.
        await using (var s = await C.Client.OpenReadAsync(TestCacheCluster.Uri("b/versioned.bin")))
            Assert.Equal(v1, await ReadAllAsync(s));

        C.Clock.Advance(TimeSpan.FromSeconds(11));
        await using (var s = await C.Client.OpenReadAsync(TestCacheCluster.Uri("b/versioned.bin")))
            Assert.Equal(v2, await ReadAllAsync(s));
        var stat = await C.Client.StatAsync(TestCacheCluster.Uri("b/versioned.bin"));
        Assert.Equal(v2.Length, stat.Size);
    }

    [Fact]
    public async Task OpenRead_ObjectChangesMidRead_FailsRatherThanMixingVersions()
    {
        var options = new OssClientOptions { ReadAheadShards = 1, ClusterReadAheadShards = 0, OpenPrefetchBytes = 0 };
        var client = OssCacheClient.FromClusterClient(C.Cluster.Client, options);
        await using var _ = client;
        var v1 = C.PutRandom("b/changing.bin", 4 << 20, seed: 3);
        await using var stream = await client.OpenReadAsync(TestCacheCluster.Uri("b/changing.bin"));
        var head = new byte[1 << 20];
        await stream.ReadExactlyAsync(head);
        Assert.Equal(v1.AsSpan(0, 1 << 20).ToArray(), head);

        C.PutRandom("b/changing.bin", 4 << 20, seed: 4);

        // Shards 1..3 of the old version were never loaded, and the origin no longer has that version.
        var ex = await Assert.ThrowsAsync<ObjectChangedException>(() => ReadAllAsync(stream));
        Assert.Contains("changing.bin", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenRead_ObjectChangesAfterTheClusterLoadedItAhead_ReadsTheOpenedVersionWhole()
    {
        var options = new OssClientOptions { ReadAheadShards = 1, ClusterReadAheadShards = 8, OpenPrefetchBytes = 0 };
        var client = OssCacheClient.FromClusterClient(C.Cluster.Client, options);
        await using var _ = client;
        var v1 = C.PutRandom("b/changing-ahead.bin", 4 << 20, seed: 5);
        await using var stream = await client.OpenReadAsync(TestCacheCluster.Uri("b/changing-ahead.bin"));
        var head = new byte[1 << 20];
        await stream.ReadExactlyAsync(head);
        var info = await client.StatAsync(TestCacheCluster.Uri("b/changing-ahead.bin"));
        for (int i = 1; i < 4; i++)
            await C.LocateAsync(info, i);

        C.PutRandom("b/changing-ahead.bin", 4 << 20, seed: 6);

        // Every shard of the opened version is in the cluster: the stream ends with that version, all of it.
        var rest = await ReadAllAsync(stream);
        Assert.Equal(v1, head.Concat(rest).ToArray());
    }

    [Fact]
    public async Task OpenRead_503BurstAndTruncatedBodies_ReturnsCorrectBytes()
    {
        var data = C.PutRandom("e/flaky.bin", 6 << 20);
        C.Origin.Faults.Fail503(3, FaultScope.RangedGet);
        C.Origin.Faults.TruncateBody(2, FaultScope.RangedGet);
        C.Origin.Faults.ResetConnection(1, FaultScope.RangedGet);

        await using var stream = await C.Client.OpenReadAsync(TestCacheCluster.Uri("e/flaky.bin"));
        Assert.Equal(data, await ReadAllAsync(stream));
        Assert.Equal(0, C.Origin.Faults.Pending);
    }

    [Fact]
    public async Task OpenRead_OriginAlwaysAnswers200ForRanges_FailsClearlyWithoutWrongBytes()
    {
        C.PutRandom("e/bad-proxy.bin", 3 << 20);
        C.Origin.Faults.Return200InsteadOf206(1000);
        try
        {
            await using var stream = await C.Client.OpenReadAsync(TestCacheCluster.Uri("e/bad-proxy.bin"));
            var ex = await Assert.ThrowsAsync<OriginFailedException>(() => ReadAllAsync(stream));
            Assert.Contains("e/bad-proxy.bin", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            C.Origin.Faults.Clear();
        }
    }

    [Fact]
    public async Task OpenRead_WrongContentRange_FailsClearlyWithoutWrongBytes()
    {
        C.PutRandom("e/shifted.bin", 2 << 20);
        C.Origin.Faults.WrongContentRange(1000, shiftBytes: 512);
        try
        {
            await using var stream = await C.Client.OpenReadAsync(TestCacheCluster.Uri("e/shifted.bin"));
            await Assert.ThrowsAsync<OriginFailedException>(() => ReadAllAsync(stream));
        }
        finally
        {
            C.Origin.Faults.Clear();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3 << 20)]            // exactly 3 shards
    [InlineData((3 << 20) + 1)]      // one byte into a 4th shard
    [InlineData((2 << 20) - 1)]
    public async Task OpenRead_EdgeSizes_ReturnsExactBytes(int size)
    {
        var key = $"f/size-{size}.bin";
        var data = C.PutRandom(key, size);
        await using var stream = await C.Client.OpenReadAsync(TestCacheCluster.Uri(key));
        Assert.Equal(size, stream.Length);
        Assert.Equal(data, await ReadAllAsync(stream));
        Assert.Equal(0, await stream.ReadAsync(new byte[10]));
    }

    [Fact]
    public async Task ReadRange_AcrossShardBoundariesAtAndPastEof_ReturnsExactBytes()
    {
        const int size = (4 << 20) + 123;
        var data = C.PutRandom("f/ranges.bin", size);
        var uri = TestCacheCluster.Uri("f/ranges.bin");

        var buffer = new byte[3 << 20];
        Assert.Equal(buffer.Length, await C.Client.ReadRangeAsync(uri, (1 << 20) - 10, buffer));
        Assert.Equal(data.AsSpan((1 << 20) - 10, buffer.Length).ToArray(), buffer);

        var tail = new byte[1000];
        Assert.Equal(123, await C.Client.ReadRangeAsync(uri, 4 << 20, tail));
        Assert.Equal(data.AsSpan(4 << 20, 123).ToArray(), tail.AsSpan(0, 123).ToArray());

        Assert.Equal(0, await C.Client.ReadRangeAsync(uri, size, tail));
        Assert.Equal(0, await C.Client.ReadRangeAsync(uri, size + 5000, tail));
    }

    [Fact]
    public async Task Seek_BackwardsAndAcrossShards_ReadsTheRightBytes()
    {
        const int size = 5 << 20;
        var data = C.PutRandom("f/seek.bin", size);
        await using var stream = await C.Client.OpenReadAsync(TestCacheCluster.Uri("f/seek.bin"));
        var buf = new byte[4096];

        foreach (long pos in new long[] { (4 << 20) + 7, 100, (2 << 20) - 2048, size - 4096, 0 })
        {
            stream.Position = pos;
            await stream.ReadExactlyAsync(buf);
            Assert.True(data.AsSpan((int)pos, buf.Length).SequenceEqual(buf), $"bytes at {pos} differ");
            Assert.Equal(pos + buf.Length, stream.Position);
        }
        stream.Seek(-10, SeekOrigin.End);
        Assert.Equal(10, await stream.ReadAsync(buf));
        Assert.True(data.AsSpan(size - 10).SequenceEqual(buf.AsSpan(0, 10)));
        stream.Seek(size + 100, SeekOrigin.Begin);
        Assert.Equal(0, await stream.ReadAsync(buf));
        Assert.Throws<IOException>(() => stream.Seek(-1, SeekOrigin.Begin));
    }

    [Fact]
    public async Task OpenRead_MissingObject_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<OssObjectNotFoundException>(() => C.Client.OpenReadAsync(TestCacheCluster.Uri("nope/missing.bin")));
    }

    [Fact]
    public async Task ClusterStats_AfterReads_CountOriginBytesHitsAndMissesPerSilo()
    {
        await C.QuiesceAsync();
        var before = await C.Client.GetClusterStatsAsync();
        Assert.Equal(3, before.Count);
        var data = C.PutRandom("m/stats.bin", 4 << 20);

        for (int i = 0; i < 2; i++)
        {
            await using var stream = await C.Client.OpenReadAsync(TestCacheCluster.Uri("m/stats.bin"));
            Assert.Equal(data, await ReadAllAsync(stream));
        }

        var after = await C.Client.GetClusterStatsAsync();
        Assert.Equal(4L << 20, after.Sum(s => s.BytesFromOrigin) - before.Sum(s => s.BytesFromOrigin));
        Assert.Equal(4, after.Sum(s => s.Misses) - before.Sum(s => s.Misses));
        Assert.True(after.Sum(s => s.Hits) - before.Sum(s => s.Hits) >= 4, "the second read should hit every shard");
        Assert.True(after.Sum(s => s.BytesServed) - before.Sum(s => s.BytesServed) >= 8L << 20, "both reads go through the data plane");
        Assert.All(after, s => Assert.StartsWith("http://", s.DataPlaneUrl, StringComparison.Ordinal));
        // The memory held covers at least what is resident, and never more than the capacity (nothing is loading now).
        Assert.All(after, s => Assert.InRange(s.AllocatedBytes, s.UsedBytes, s.CapacityBytes));
        Assert.True(after.Sum(s => s.AllocatedBytes) >= 4L << 20);
    }
}
