using OssOrleans.Client;
using OssOrleans.Client.Datasets;

namespace OssOrleans.ClusterTests;

/// <summary>Clients on the silos' machine read shards over the silos' Unix sockets, and fall back to TCP when they cannot.</summary>
public sealed class LocalSocketTests
{
    [Fact]
    public async Task Read_SameMachine_ServedOverTheLocalSocket()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 2);
        var data = c.PutRandom("uds/a.bin", (5 << 20) + 123);

        await using (var s = await c.Client.OpenReadAsync(TestCacheCluster.Uri("uds/a.bin")))
            Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(data.Length, stats.Sum(s => s.BytesServed));
        Assert.Equal(data.Length, stats.Sum(s => s.BytesServedLocal));
    }

    [Fact]
    public async Task DatasetSamples_SameMachine_ServedOverTheLocalSocket()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 2);
        long bytes = 0;
        for (int i = 0; i < 20; i++)
            bytes += c.PutRandom($"uds-ds/{i:D2}.bin", 3000 + i, seed: i).Length;

        // Small samples come through the run grains and batch GETs, not the shard path.
        var ds = await OssIterableDataset.FromPrefixAsync(c.Client, TestCacheCluster.Uri("uds-ds/"));
        int n = 0;
        await foreach (var item in ds)
        {
            Assert.NotNull(item);
            n++;
        }
        Assert.Equal(20, n);

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(bytes, stats.Sum(s => s.BytesServed));
        Assert.Equal(bytes, stats.Sum(s => s.BytesServedLocal));
    }

    [Fact]
    public async Task Read_LocalSocketTurnedOffInTheClient_ServedOverTcp()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 2);
        var data = c.PutRandom("uds/b.bin", 3 << 20);
        var tcpOnly = OssCacheClient.FromClusterClient(c.Cluster.Client, new OssClientOptions { UseLocalSocket = false });

        await using (var s = await tcpOnly.OpenReadAsync(TestCacheCluster.Uri("uds/b.bin")))
            Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(data.Length, stats.Sum(s => s.BytesServed));
        Assert.Equal(0, stats.Sum(s => s.BytesServedLocal));
    }

    [Fact]
    public async Task Read_SocketPathIsNotASocket_FallsBackToTcpWithCorrectBytes()
    {
        var (c, data, socket) = await OneSiloHoldingAsync("uds/c.bin", 2 << 20);
        await using var _ = c;
        // Both sockets: the HTTP one and the raw read one beside it.
        await NotASocketAsync(socket);
        await NotASocketAsync(LocalReadFrames.PathFor(socket));

        await using (var s = await c.Client.OpenReadAsync(TestCacheCluster.Uri("uds/c.bin")))
            Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(data.Length, stats.Sum(s => s.BytesServed));
        Assert.Equal(0, stats.Sum(s => s.BytesServedLocal));
    }

    [Fact]
    public async Task Read_OnlyTheRawReadSocketLeft_StillServedLocally()
    {
        var (c, data, socket) = await OneSiloHoldingAsync("uds/e.bin", (3 << 20) + 17);
        await using var _ = c;
        Assert.True(File.Exists(LocalReadFrames.PathFor(socket)), "the silo opens a raw read socket beside its HTTP one");
        // Without the HTTP socket, a local read can only come through the raw one.
        File.Delete(socket);

        await using (var s = await c.Client.OpenReadAsync(TestCacheCluster.Uri("uds/e.bin")))
            Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));
        var buffer = new byte[1000];
        Assert.Equal(1000, await c.Client.ReadRangeAsync(TestCacheCluster.Uri("uds/e.bin"), (2 << 20) - 500, buffer));
        Assert.Equal(data.AsSpan((2 << 20) - 500, 1000).ToArray(), buffer);

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(data.Length + 1000, stats.Sum(s => s.BytesServedLocal));
        Assert.Equal(stats.Sum(s => s.BytesServed), stats.Sum(s => s.BytesServedLocal));
    }

    [Fact]
    public async Task Read_RawReadSocketNotASocket_FallsBackToHttpOverTheLocalSocket()
    {
        var (c, data, socket) = await OneSiloHoldingAsync("uds/f.bin", 2 << 20);
        await using var _ = c;
        await NotASocketAsync(LocalReadFrames.PathFor(socket));

        await using (var s = await c.Client.OpenReadAsync(TestCacheCluster.Uri("uds/f.bin")))
            Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));

        var stats = await c.Client.GetClusterStatsAsync();
        Assert.Equal(data.Length, stats.Sum(s => s.BytesServedLocal));
    }

    [Fact]
    public async Task Silo_LocalSocketTurnedOff_AdvertisesNone()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 1, cache: o => o.DataPlaneLocalSocket = false);
        c.PutRandom("uds/d.bin", 1000);
        var info = await c.Client.StatAsync(TestCacheCluster.Uri("uds/d.bin"));
        var location = await c.LocateAsync(info, 0);
        Assert.Null(location.Local);
    }

    // A one-silo cluster holding a random object, and the silo's Unix socket as its shard locations advertise it.
    private static async Task<(TestCacheCluster Cluster, byte[] Data, string Socket)> OneSiloHoldingAsync(string key, int size)
    {
        var c = await TestCacheCluster.StartAsync(silos: 1);
        var data = c.PutRandom(key, size);
        var location = await c.LocateAsync(await c.Client.StatAsync(TestCacheCluster.Uri(key)), 0);
        Assert.NotNull(location.Local);
        return (c, data, location.Local.Path);
    }

    // What a stale or foreign file at an advertised socket path looks like to the client: it exists but takes no connection.
    private static async Task NotASocketAsync(string path)
    {
        File.Delete(path);
        await File.WriteAllTextAsync(path, "not a socket");
    }
}
