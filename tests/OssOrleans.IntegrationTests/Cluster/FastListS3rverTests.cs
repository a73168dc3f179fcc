using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OssOrleans.Client;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Cluster;

/// <summary>Fast and plain lists of 20,000 keys in real s3rver, through a one-silo cluster: exactness, not speed.</summary>
public sealed class FastListS3rverTests
{
    private const string Bucket = "listing";

    [Fact]
    public async Task FastList_20000KeysInS3rver_SetEqualToPlainList()
    {
        await using var s3rver = await S3rverProcess.StartAsync(Bucket);
        var storeOptions = new S3StoreOptions { Endpoint = s3rver.Endpoint.ToString(), AccessKeyId = s3rver.AccessKeyId, AccessKeySecret = s3rver.SecretAccessKey };

        // 15,000 keys in one flat directory and 100 shallow directories of 50 (s3rver lists a common prefix only when some
        // key sits directly in it, so the directories hold their keys directly). Seeding takes most of the test's time:
        // s3rver stores each object as files, at a few milliseconds a put.
        var keys = Enumerable.Range(0, 15_000).Select(i => $"data/flat/{i:D6}.bin")
            .Concat(Enumerable.Range(0, 5_000).Select(i => $"data/dirs/d{i / 50:D3}/f{i % 50:D2} {(i % 7 == 0 ? "é" : "x")}.bin"))
            .ToList();
        var put = Stopwatch.StartNew();
        using (var seeding = new S3ObjectStore(storeOptions))
        {
            byte[] body = [1, 2, 3];
            await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 48 },
                async (key, ct) => await seeding.PutAsync(Bucket, key, body, cancellationToken: ct));
        }
        Assert.True(put.Elapsed < TimeSpan.FromSeconds(120), $"seeding 20,000 keys took {put.Elapsed}");

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IObjectStore>(_ => new S3ObjectStore(storeOptions));
            // s3rver reads the whole bucket for every list request (about 0.2 s here at 20,000 keys): full pages, few requests.
            // The testing host waits for the cluster through its own hooks, from its client (production silos host none).
            silo.Services.AddSingleton(new OssOrleans.Grains.Security.SystemTargetAllowList("Orleans.Runtime.TestHooks.ITestHooks"));
            silo.AddOssCache();
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var client = OssCacheClient.FromClusterClient(cluster.Client);

        int partitions = 0;
        var plain = await ToListAsync(client.ListAsync($"oss://{Bucket}/data/", new ListOptions { Fast = false }));
        var fast = await ToListAsync(client.ListAsync($"oss://{Bucket}/data/", new ListOptions { OnPartition = _ => Interlocked.Increment(ref partitions) }));
        // Within the list cache TTL: the same partitions, replayed in key order.
        var sorted = await ToListAsync(client.ListAsync($"oss://{Bucket}/data/", new ListOptions { Sorted = true }));

        var expected = keys.Order(KeyOrder.Comparer).ToList();
        Assert.Equal(expected, plain.Select(e => e.Key));
        Assert.Equal(expected, sorted.Select(e => e.Key));
        Assert.Equal(expected.Count, fast.Count);
        Assert.Equal(expected, fast.Select(e => e.Key).Order(KeyOrder.Comparer));
        Assert.True(partitions >= 3, $"the fast list read {partitions} partition(s)");
        Assert.All(fast, e => Assert.Equal(3, e.Size));
    }

    private static async Task<List<ObjectEntry>> ToListAsync(IAsyncEnumerable<ObjectEntry> source)
    {
        var list = new List<ObjectEntry>();
        await foreach (var e in source.WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token))
            list.Add(e);
        return list;
    }
}
