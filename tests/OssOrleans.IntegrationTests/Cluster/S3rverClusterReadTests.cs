using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OssOrleans.Client;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Cluster;

/// <summary>The main read path with real s3rver as the origin: one silo, the S3 adapter, the data plane and the client.</summary>
public sealed class S3rverClusterReadTests
{
    [Fact]
    public async Task OpenRead_ThroughClusterFromS3rver_ReturnsExactBytesAndFetchesOnce()
    {
        await using var s3rver = await S3rverProcess.StartAsync("cluster");
        var storeOptions = new S3StoreOptions { Endpoint = s3rver.Endpoint.ToString(), AccessKeyId = s3rver.AccessKeyId, AccessKeySecret = s3rver.SecretAccessKey };
        using var seeding = new S3ObjectStore(storeOptions);
        const int size = (24 << 20) + 4321;
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        await seeding.PutAsync("cluster", "models/weights.bin", data);

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IObjectStore>(_ => new S3ObjectStore(storeOptions));
            // The testing host waits for the cluster through its own hooks, from its client (production silos host none).
            silo.Services.AddSingleton(new OssOrleans.Grains.Security.SystemTargetAllowList("Orleans.Runtime.TestHooks.ITestHooks"));
            silo.AddOssCache(o => o.ShardSize = 4 << 20);
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var client = OssCacheClient.FromClusterClient(cluster.Client);

        for (int pass = 0; pass < 2; pass++)
        {
            await using var stream = await client.OpenReadAsync("oss://cluster/models/weights.bin");
            using var ms = new MemoryStream();
            await stream.CopyToAsync(ms);
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(ms.ToArray()));
        }

        var stats = await client.GetClusterStatsAsync();
        Assert.Equal(size, stats.Sum(s => s.BytesFromOrigin));
        Assert.Equal(7, stats.Sum(s => s.Misses));
        Assert.True(stats.Sum(s => s.Hits) >= 7, "the second pass should be served from the cache");
    }
}
