using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OssOrleans.Client;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Cluster;

/// <summary>Checkpoint write and directory preparation with real s3rver as the origin (one silo, the S3 adapter).</summary>
public sealed class S3rverCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ossorleans-s3rver-prep-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task WriteThenPrepare_ThroughClusterOnS3rver_RoundTripsExactBytes()
    {
        await using var s3rver = await S3rverProcess.StartAsync("ckpt");
        var storeOptions = new S3StoreOptions { Endpoint = s3rver.Endpoint.ToString(), AccessKeyId = s3rver.AccessKeyId, AccessKeySecret = s3rver.SecretAccessKey };
        using var store = new S3ObjectStore(storeOptions);
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IObjectStore>(_ => new S3ObjectStore(storeOptions));
            // The testing host waits for the cluster through its own hooks, from its client (production silos host none).
            silo.Services.AddSingleton(new OssOrleans.Grains.Security.SystemTargetAllowList("Orleans.Runtime.TestHooks.ITestHooks"));
            silo.AddOssCache(o => o.ShardSize = 1 << 20);
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var client = OssCacheClient.FromClusterClient(cluster.Client);

        // A multipart checkpoint of three parts (5, 5 and 2 MiB + a tail) and a small file beside it.
        var data = new byte[(12 << 20) + 777];
        Random.Shared.NextBytes(data);
        await using (var w = await client.OpenWriteAsync("oss://ckpt/run-1/step-10/model.bin", new WriteOptions { PartSize = 5 << 20, UploadConcurrency = 2 }))
        {
            await w.WriteAsync(data);
            var info = await w.CompleteAsync();
            Assert.Equal(data.Length, info.Size);
        }
        await using (var w = await client.OpenWriteAsync("oss://ckpt/run-1/step-10/meta.json", new WriteOptions { CreateOnly = true }))
        {
            await w.WriteAsync("{\"step\":10}"u8.ToArray());
            await w.CompleteAsync();
        }
        var head = await store.HeadAsync("ckpt", "run-1/step-10/model.bin");
        Assert.Equal(data.Length, head.Size);
        await Assert.ThrowsAsync<OssObjectExistsException>(() => client.OpenWriteAsync("oss://ckpt/run-1/step-10/meta.json", new WriteOptions { CreateOnly = true }));

        var result = await client.PrepareDirectoryAsync("oss://ckpt/run-1/step-10", _dir);

        Assert.Equal(2, result.FilesWritten);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(_dir, "model.bin"))));
        Assert.Equal("{\"step\":10}", await File.ReadAllTextAsync(Path.Combine(_dir, "meta.json")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }
}
