using System.Security.Cryptography;
using OssOrleans.Client;
using OssOrleans.TestKit;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests.Checkpoints;

public sealed class CheckpointFixture : IAsyncLifetime
{
    public TestCacheCluster Cluster { get; private set; } = null!;

    // Parts of any size are accepted, so small tests can use several parts; shards are 1 MiB (TestCacheCluster).
    public async Task InitializeAsync() => Cluster = await TestCacheCluster.StartAsync(silos: 3, cache: o => o.CapacityBytes = 768L << 20);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class CheckpointCollection : ICollectionFixture<CheckpointFixture>
{
    public const string Name = "checkpoints";
}

/// <summary>Checkpoint writes through a 3-silo cluster over the origin simulator. Tests in the collection run one after another.</summary>
[Collection(CheckpointCollection.Name)]
public sealed class CheckpointWriteTests(CheckpointFixture fixture)
{
    private TestCacheCluster C => fixture.Cluster;

    [Fact]
    public async Task OpenWrite_OneGiB_RoundTripsHashEqual()
    {
        const long size = 1L << 30;
        const string key = "ckpt/1gib.bin";
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[4 << 20];
        var random = new Random(42);
        await using (var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { PartSize = 16 << 20 }))
        {
            for (long at = 0; at < size; at += chunk.Length)
            {
                random.NextBytes(chunk);
                sha.AppendData(chunk);
                await w.WriteAsync(chunk);
            }
            var info = await w.CompleteAsync();
            Assert.Equal(size, info.Size);
        }
        var expected = sha.GetHashAndReset();

        Assert.Equal(size, C.Origin.HeadObject(TestCacheCluster.Bucket, key)!.Length);
        Assert.Equal(0, C.Origin.OpenMultipartUploads);
        await using var r = await C.Client.OpenReadAsync(TestCacheCluster.Uri(key));
        var (hash, length) = await HashToEndAsync(r, 4 << 20);
        Assert.Equal(size, length);
        Assert.Equal(expected, hash);
    }

    [Fact]
    public async Task OpenWrite_ReadRightAfter_MakesNoOriginGets()
    {
        const string key = "ckpt/write-through.bin";
        var data = RandomBytes((40 << 20) + 12345, seed: 7);
        await using (var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { PartSize = 8 << 20, UploadConcurrency = 3 }))
        {
            await w.WriteAsync(data);
            await w.CompleteAsync();
        }
        C.Origin.ResetCounters();

        await using (var r = await C.Client.OpenReadAsync(TestCacheCluster.Uri(key)))
            Assert.Equal(data, await ReadAllAsync(r));

        var counters = C.Origin.Counters;
        Assert.Equal(0, counters.Gets);
        Assert.Equal(0, counters.GetBodyBytes);
        Assert.Equal(data, C.Origin.GetObjectBytes(TestCacheCluster.Bucket, key));
    }

    [Fact]
    public async Task OpenWrite_WriterThrowsMidway_LeavesNoObjectAndNoOpenUpload()
    {
        const string key = "ckpt/failed-writer.bin";
        var data = RandomBytes(24 << 20, seed: 3);
        var partsBefore = C.Origin.Counters.UploadParts;
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { PartSize = 5 << 20 });
            await w.WriteAsync(data);
            // Fail only once parts have reached the origin, so there is a real upload to abort.
            for (int i = 0; i < 600 && C.Origin.Counters.UploadParts == partsBefore; i++)
                await Task.Delay(50);
            Assert.True(C.Origin.Counters.UploadParts > partsBefore, "no part reached the origin within 30 s");
            throw new InvalidOperationException("the serializer failed");
        });

        Assert.Null(C.Origin.HeadObject(TestCacheCluster.Bucket, key));
        Assert.Equal(0, C.Origin.OpenMultipartUploads);
        Assert.True(C.Origin.Counters.Aborts > 0);
    }

    [Fact]
    public async Task OpenWrite_Cancelled_AbortsAndLeavesNothing()
    {
        const string key = "ckpt/cancelled.bin";
        using var cts = new CancellationTokenSource();
        var chunk = RandomBytes(5 << 20, seed: 4);
        await using (var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { PartSize = 5 << 20 }, cts.Token))
        {
            await w.WriteAsync(chunk);
            await w.WriteAsync(chunk);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await w.WriteAsync(chunk));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => w.CompleteAsync());
        }
        Assert.Null(C.Origin.HeadObject(TestCacheCluster.Bucket, key));
        Assert.Equal(0, C.Origin.OpenMultipartUploads);
    }

    [Fact]
    public async Task OpenWrite_OriginRefusesParts_FailsAndLeavesNothing()
    {
        const string key = "ckpt/origin-fails.bin";
        var data = RandomBytes(6 << 20, seed: 5);
        await using var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { PartSize = 5 << 20, UploadConcurrency = 1 });
        // Enough 503s for every retry of the first part (4 origin attempts on each of 6 tries), none left for the abort.
        C.Origin.Faults.Fail503(24);
        try
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await w.WriteAsync(data);
                await w.CompleteAsync();
            });
            Assert.True(ex is OriginFailedException or IOException, ex.ToString());
        }
        finally
        {
            C.Origin.Faults.Clear();
        }
        Assert.Null(C.Origin.HeadObject(TestCacheCluster.Bucket, key));
        Assert.Equal(0, C.Origin.OpenMultipartUploads);
    }

    [Fact]
    public async Task OpenWrite_CreateOnly_FailsWhenTheObjectExists()
    {
        const string key = "ckpt/create-only.bin";
        var original = C.PutRandom(key, 1000, seed: 9);
        await Assert.ThrowsAsync<OssObjectExistsException>(() =>
            C.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { CreateOnly = true }));

        // Created by someone else while the upload runs: the complete fails, the other object stays.
        const string raced = "ckpt/create-only-raced.bin";
        await using (var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(raced), new WriteOptions { CreateOnly = true }))
        {
            await w.WriteAsync(RandomBytes(3 << 20, seed: 10));
            C.Origin.PutObject(TestCacheCluster.Bucket, raced, original);
            await Assert.ThrowsAsync<OssObjectExistsException>(() => w.CompleteAsync());
        }
        Assert.Equal(original, C.Origin.GetObjectBytes(TestCacheCluster.Bucket, raced));
        Assert.Equal(original, C.Origin.GetObjectBytes(TestCacheCluster.Bucket, key));
        Assert.Equal(0, C.Origin.OpenMultipartUploads);

        // A new key is written.
        await using (var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri("ckpt/create-only-new.bin"), new WriteOptions { CreateOnly = true }))
        {
            await w.WriteAsync(original);
            await w.CompleteAsync();
        }
        Assert.Equal(original, C.Origin.GetObjectBytes(TestCacheCluster.Bucket, "ckpt/create-only-new.bin"));
    }

    [Fact]
    public async Task OpenWrite_Overwrite_ReadsTheNewVersionAtOnce()
    {
        const string key = "ckpt/overwrite.bin";
        var v1 = C.PutRandom(key, 3 << 20, seed: 11);
        await using (var r = await C.Client.OpenReadAsync(TestCacheCluster.Uri(key)))
            Assert.Equal(v1, await ReadAllAsync(r));

        var v2 = RandomBytes((2 << 20) + 7, seed: 12);
        await using (var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(key)))
        {
            w.Write(v2, 0, 1000);
            w.Write(v2, 1000, v2.Length - 1000);
            await w.CompleteAsync();
        }
        // No TTL wait: the write invalidated the cluster's metadata.
        await using (var r = await C.Client.OpenReadAsync(TestCacheCluster.Uri(key)))
            Assert.Equal(v2, await ReadAllAsync(r));
    }

    [Fact]
    public async Task OpenWrite_Empty_CreatesAnEmptyObject()
    {
        const string key = "ckpt/empty.bin";
        await using (var w = await C.Client.OpenWriteAsync(TestCacheCluster.Uri(key)))
            Assert.Equal(0, (await w.CompleteAsync()).Size);
        Assert.Equal(0, C.Origin.HeadObject(TestCacheCluster.Bucket, key)!.Length);
    }

    internal static byte[] RandomBytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }
}

public sealed class CheckpointSiloLossTests
{
    [Fact]
    public async Task OpenWrite_SiloKilledMidUpload_GivesTheRightObjectOrNothing()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 3);
        const string key = "loss/ckpt.bin";
        var data = CheckpointWriteTests.RandomBytes(48 << 20, seed: 21);
        ObjectInfo? info = null;
        Exception? failure = null;
        try
        {
            await using var w = await c.Client.OpenWriteAsync(TestCacheCluster.Uri(key), new WriteOptions { PartSize = 5 << 20, UploadConcurrency = 2 });
            await w.WriteAsync(data.AsMemory(0, 16 << 20));
            await c.Cluster.KillSiloAsync(c.Cluster.Silos[^1]);
            await w.WriteAsync(data.AsMemory(16 << 20));
            info = await w.CompleteAsync();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            failure = ex;
        }

        var stored = c.Origin.GetObjectBytes(TestCacheCluster.Bucket, key);
        if (failure is null)
        {
            Assert.Equal(data.Length, info!.Size);
            Assert.Equal(data, stored);
            await using var r = await c.Client.OpenReadAsync(TestCacheCluster.Uri(key));
            Assert.Equal(data, await ReadAllAsync(r));
        }
        else
        {
            Assert.True(stored is null, $"the write failed ({failure.Message}) but an object is visible");
        }
    }
}

public sealed class MultipartETagTests
{
    [Fact]
    public async Task Compute_MatchesTheOriginsETag_AndACompleteRetriedAfterItsAnswerWasLostSucceeds()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 1);
        using var store = new OssOrleans.Storage.S3ObjectStore(new OssOrleans.Storage.S3StoreOptions
        {
            Endpoint = c.Origin.Endpoint.ToString(), AccessKeyId = "k", AccessKeySecret = "s",
        });
        var uri = new ObjectUri(TestCacheCluster.Bucket, "etag/mp.bin");
        var session = await c.Cluster.Client.GetGrain<IUploadGrain>("anonymous/etag-test").StartAsync(uri, createOnly: false, partSize: 5 << 20);
        var p1 = CheckpointWriteTests.RandomBytes(5 << 20, seed: 1);
        var p2 = CheckpointWriteTests.RandomBytes(1234, seed: 2);
        var u1 = await store.UploadPartAsync(uri.Bucket, uri.Key, session.OriginUploadId, 1, p1);
        var u2 = await store.UploadPartAsync(uri.Bucket, uri.Key, session.OriginUploadId, 2, p2);
        UploadedPartInfo[] parts = [new(1, u1.ETag, u1.Size), new(2, u2.ETag, u2.Size)];

        // The first complete's answer is "lost": the object is there, and the upload is gone.
        var done = await store.CompleteMultipartAsync(uri.Bucket, uri.Key, session.OriginUploadId, [u1, u2]);
        Assert.True(OssOrleans.Grains.Uploads.MultipartETag.Matches(done.ETag, OssOrleans.Grains.Uploads.MultipartETag.Compute(parts)!));

        var info = await c.Cluster.Client.GetGrain<IUploadGrain>("anonymous/etag-test-retry").CompleteAsync(session, parts, []);
        Assert.Equal(p1.Length + p2.Length, info.Size);
    }
}
