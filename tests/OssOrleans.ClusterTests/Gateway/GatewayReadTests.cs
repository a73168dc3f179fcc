using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>GetObject and HeadObject through two silos' gateways with AWSSDK.S3 4.x defaults, against the origin and the .NET client.</summary>
[Collection(AnonymousGatewayCollection.Name)]
public sealed class GatewayReadTests(AnonymousGatewayFixture fixture)
{
    private GatewayCluster G => fixture.Gateway;

    [Fact]
    public async Task GetObject_ThroughEachSiloAndTheClient_SameBytesFetchedFromOriginOnce()
    {
        const string key = "read/once/model.bin";
        var data = G.PutAtOrigin(key, 6 * (1 << 20) + 12_345, seed: 7);
        await G.Cluster.QuiesceAsync();
        long before = G.Origin.Counters.GetBodyBytes;

        using var s3a = G.S3(0);
        using var s3b = G.S3(1);
        byte[] viaA = await GetAsync(s3a, key);
        byte[] viaB = await GetAsync(s3b, key);
        await using var stream = await G.Cluster.Client.OpenReadAsync(TestCacheCluster.Uri(key));
        byte[] viaClient = await ReadAllAsync(stream);
        await G.Cluster.QuiesceAsync();

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(viaA));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(viaB));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(viaClient));
        Assert.Equal(data.Length, G.Origin.Counters.GetBodyBytes - before);
    }

    [Fact]
    public async Task GetObject_ShardCorruptedInMemory_EitherGatewayServesTheVersionsBytes()
    {
        const string key = "read/corrupted.bin";
        var data = G.PutAtOrigin(key, 3 * (1 << 20), seed: 17);
        using var s3a = G.S3(0);
        using var s3b = G.S3(1);
        Assert.Equal(data, await GetAsync(s3a, key));

        // A flipped bit in every cached shard, wherever it is: read through the gateway of the silo holding a shard (its
        // own check, before a byte is sent) and through the other (the holder's data plane and the gateway's CRC check).
        var info = await G.Cluster.Client.StatAsync(TestCacheCluster.Uri(key));
        for (int round = 0; round < 2; round++)
        {
            int flipped = 0;
            for (int i = 0; i < info.ShardCount; i++)
            {
                foreach (var silo in G.Cluster.Cluster.Silos)
                {
                    var store = G.Cluster.StoreOf(silo);
                    if (store.TryGetHandle(info.Shard(i).ToGrainKey(), out long handle, out _, out _) && store.TryLease(handle, out var lease))
                    {
                        using (lease)
                            System.Runtime.InteropServices.MemoryMarshal.AsMemory(lease.Memory).Span[1000 + i] ^= 0x20;
                        flipped++;
                    }
                }
            }
            Assert.Equal(info.ShardCount, flipped);

            Assert.Equal(SHA256.HashData(data), SHA256.HashData(await GetAsync(round == 0 ? s3a : s3b, key)));
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(await GetAsync(round == 0 ? s3b : s3a, key)));
        }
    }

    [Theory]
    [InlineData("bytes=0-0", 0, 1)]
    [InlineData("bytes=1048570-1048580", 1048570, 11)]
    [InlineData("bytes=2000000-", 2000000, 1000)]
    [InlineData("bytes=-5000", 1996000, 5000)]
    [InlineData("bytes=2000990-5000000", 2000990, 10)]
    public async Task GetObject_Range_Answers206WithExactlyThoseBytes(string range, int start, int length)
    {
        const string key = "read/ranges.bin";
        var data = G.Origin.GetObjectBytes(GatewayCluster.Bucket, key) ?? G.PutAtOrigin(key, 2_001_000, seed: 3);
        using var s3 = G.S3(1);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{G.Urls[1]}/{GatewayCluster.Bucket}/{key}");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {start}-{start + length - 1}/{data.Length}", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(data.AsSpan(start, length).ToArray(), body);

        var sdk = await s3.GetObjectAsync(new GetObjectRequest { BucketName = GatewayCluster.Bucket, Key = key, ByteRange = new ByteRange(start, start + length - 1) });
        Assert.Equal(data.AsSpan(start, length).ToArray(), await ReadAllAsync(sdk.ResponseStream));
    }

    [Fact]
    public async Task GetObject_RangePastTheEnd_Answers416InvalidRangeWithTheSize()
    {
        const string key = "read/small-for-416.bin";
        G.PutAtOrigin(key, 100, seed: 5);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{G.Urls[0]}/{GatewayCluster.Bucket}/{key}");
        request.Headers.TryAddWithoutValidation("Range", "bytes=100-200");
        using var response = await http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */100", response.Content.Headers.ContentRange?.ToString());
        Assert.Contains("<Code>InvalidRange</Code>", body);
        Assert.Contains("<RequestId>", body);
    }

    [Fact]
    public async Task GetObject_Conditions_304And412AsS3()
    {
        const string key = "read/conditional.bin";
        G.PutAtOrigin(key, 1000, seed: 9);
        using var s3 = G.S3();
        var head = await s3.GetObjectMetadataAsync(GatewayCluster.Bucket, key);

        var notModified = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.GetObjectAsync(new GetObjectRequest
        { BucketName = GatewayCluster.Bucket, Key = key, EtagToNotMatch = head.ETag }));
        var failed = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.GetObjectAsync(new GetObjectRequest
        { BucketName = GatewayCluster.Bucket, Key = key, EtagToMatch = "\"0123456789abcdef0123456789abcdef\"" }));
        using var matched = await s3.GetObjectAsync(new GetObjectRequest
        { BucketName = GatewayCluster.Bucket, Key = key, EtagToMatch = head.ETag, ModifiedSinceDate = head.LastModified!.Value.AddDays(-1) });

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, failed.StatusCode);
        Assert.Equal("PreconditionFailed", failed.ErrorCode);
        Assert.Equal(1000, matched.ContentLength);
    }

    [Fact]
    public async Task HeadObject_Missing_404WithoutBodyAndGetNoSuchKeyOrNoSuchBucket()
    {
        using var s3 = G.S3();
        var head = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.GetObjectMetadataAsync(GatewayCluster.Bucket, "read/none"));
        var get = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync(GatewayCluster.Bucket, "read/none"));
        var bucket = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("no-such-bucket-here", "k"));

        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Equal("NoSuchKey", get.ErrorCode);
        Assert.Equal("NoSuchBucket", bucket.ErrorCode);
    }

    [Fact]
    public async Task GetObject_ResponseOverrides_SetTheAnswersHeaders()
    {
        const string key = "read/override.bin";
        G.PutAtOrigin(key, 10, seed: 2);
        using var s3 = G.S3();
        var request = new GetObjectRequest { BucketName = GatewayCluster.Bucket, Key = key };
        request.ResponseHeaderOverrides.ContentType = "text/x-test";
        request.ResponseHeaderOverrides.ContentDisposition = "attachment; filename=\"a.bin\"";
        using var response = await s3.GetObjectAsync(request);

        Assert.Equal("text/x-test", response.Headers.ContentType);
        Assert.Equal("attachment; filename=\"a.bin\"", response.Headers.ContentDisposition);
    }

    [Fact]
    public async Task Request_UnsupportedSubresourceOrPartNumber_NotImplemented()
    {
        const string key = "read/acl.bin";
        G.PutAtOrigin(key, 10, seed: 2);
        using var s3 = G.S3();
        var acl = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.GetObjectAclAsync(new GetObjectAclRequest { BucketName = GatewayCluster.Bucket, Key = key }));
        var part = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.GetObjectAsync(new GetObjectRequest { BucketName = GatewayCluster.Bucket, Key = key, PartNumber = 1 }));

        Assert.Equal(("NotImplemented", HttpStatusCode.NotImplemented), (acl.ErrorCode, acl.StatusCode));
        Assert.Equal("NotImplemented", part.ErrorCode);
    }

    private static async Task<byte[]> GetAsync(IAmazonS3 s3, string key)
    {
        using var response = await s3.GetObjectAsync(GatewayCluster.Bucket, key);
        return await ReadAllAsync(response.ResponseStream);
    }
}
