using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>Writes through the gateways with AWSSDK.S3 4.x defaults (signed aws-chunked bodies with CRC32 trailers).</summary>
[Collection(AnonymousGatewayCollection.Name)]
public sealed class GatewayWriteTests(AnonymousGatewayFixture fixture)
{
    private GatewayCluster G => fixture.Gateway;

    private const string Bucket = GatewayCluster.Bucket;

    [Fact]
    public async Task PutObject_SmallWithSdkDefaults_StoredWholeAndServedFromTheCache()
    {
        const string key = "write/small.bin";
        var data = GatewayCluster.RandomBytes(200_000, 11);
        using var s3 = G.S3(0);

        var put = await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(data), ContentType = "application/x-test" });
        long getsBefore = G.Origin.Counters.Gets;
        using var get = await s3.GetObjectAsync(Bucket, key);
        byte[] back = await ReadAllAsync(get.ResponseStream);
        await using var viaClient = await G.Cluster.Client.OpenReadAsync(TestCacheCluster.Uri(key));

        Assert.Equal(data, G.Origin.GetObjectBytes(Bucket, key));
        // A single PUT keeps the origin's ETag, the MD5 that rclone and s3cmd compare.
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(data))}\"", put.ETag);
        Assert.Equal(data, back);
        Assert.Equal("application/x-test", get.Headers.ContentType);
        Assert.Equal(data, await ReadAllAsync(viaClient));
        Assert.Equal(getsBefore, G.Origin.Counters.Gets);
    }

    [Fact]
    public async Task PutObject_LargerThanTheSinglePutLimit_WrittenInPartsAndSeeded()
    {
        const string key = "write/large-put.bin";
        var data = GatewayCluster.RandomBytes(7 * (1 << 20) + 3, 12);
        using var s3 = G.S3(1);

        var put = await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(data) });
        long getsBefore = G.Origin.Counters.Gets;
        using var get = await s3.GetObjectAsync(Bucket, key);

        Assert.EndsWith("-2\"", put.ETag);
        Assert.Equal(data, G.Origin.GetObjectBytes(Bucket, key));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await ReadAllAsync(get.ResponseStream)));
        // The parts were staged as the object's shards: reading it back asks the origin for nothing.
        Assert.Equal(getsBefore, G.Origin.Counters.Gets);
    }

    [Fact]
    public async Task MultipartUpload_PartsListedThenCompleted_RoundTripsAndIsSeeded()
    {
        const string key = "write/multipart.bin";
        var data = GatewayCluster.RandomBytes(11 * (1 << 20) + 17, 13);
        using var s3 = G.S3(0);
        var init = await s3.InitiateMultipartUploadAsync(Bucket, key);
        var etags = new List<PartETag>();
        for (int i = 0, n = 1; i < data.Length; i += 5 << 20, n++)
        {
            int size = Math.Min(5 << 20, data.Length - i);
            var part = await s3.UploadPartAsync(new UploadPartRequest
            { BucketName = Bucket, Key = key, UploadId = init.UploadId, PartNumber = n, InputStream = new MemoryStream(data, i, size) });
            etags.Add(new PartETag(n, part.ETag));
        }

        var listed = await s3.ListPartsAsync(new ListPartsRequest { BucketName = Bucket, Key = key, UploadId = init.UploadId });
        var uploads = await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = "write/multipart" });
        var done = await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = init.UploadId, PartETags = etags });
        long getsBefore = G.Origin.Counters.Gets;
        using var get = await s3.GetObjectAsync(Bucket, key);

        Assert.Equal([5L << 20, 5L << 20, 1L << 20 | 17], listed.Parts.Select(p => p.Size ?? 0));
        Assert.Contains(uploads.MultipartUploads, u => u.Key == key && u.UploadId == init.UploadId);
        Assert.EndsWith("-3\"", done.ETag);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(G.Origin.GetObjectBytes(Bucket, key)!));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await ReadAllAsync(get.ResponseStream)));
        Assert.Equal(getsBefore, G.Origin.Counters.Gets);
    }

    [Fact]
    public async Task TransferUtility_UploadAndDownload_DefaultSettings_RoundTrip()
    {
        const string key = "write/transfer.bin";
        var data = GatewayCluster.RandomBytes(17 * (1 << 20) + 5, 14);
        string file = Path.GetTempFileName();
        try
        {
            using var s3 = G.S3(1);
            using var transfer = new TransferUtility(s3);
            await transfer.UploadAsync(new TransferUtilityUploadRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(data), PartSize = 5 << 20 });
            await transfer.DownloadAsync(new TransferUtilityDownloadRequest { BucketName = Bucket, Key = key, FilePath = file });

            Assert.Equal(SHA256.HashData(data), SHA256.HashData(await File.ReadAllBytesAsync(file)));
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(G.Origin.GetObjectBytes(Bucket, key)!));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AbortMultipartUpload_NothingBecomesVisible()
    {
        const string key = "write/aborted.bin";
        using var s3 = G.S3();
        var init = await s3.InitiateMultipartUploadAsync(Bucket, key);
        await s3.UploadPartAsync(new UploadPartRequest { BucketName = Bucket, Key = key, UploadId = init.UploadId, PartNumber = 1, InputStream = new MemoryStream(new byte[1000]) });

        await s3.AbortMultipartUploadAsync(Bucket, key, init.UploadId);
        var uploads = await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = key });
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.ListPartsAsync(new ListPartsRequest { BucketName = Bucket, Key = key, UploadId = init.UploadId }));

        Assert.Empty(uploads.MultipartUploads ?? []);
        Assert.Null(G.Origin.HeadObject(Bucket, key));
        Assert.Equal("NoSuchUpload", missing.ErrorCode);
    }

    [Fact]
    public async Task PutObject_Overwrite_NextReadServesTheNewVersion()
    {
        const string key = "write/overwrite.txt";
        using var s3 = G.S3(0);
        using var other = G.S3(1);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = "version one" });
        Assert.Equal("version one", await ReadTextAsync(other, key));

        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = "version two, longer" });

        Assert.Equal("version two, longer", await ReadTextAsync(other, key));
        Assert.Equal("version two, longer", await ReadTextAsync(s3, key));
    }

    [Fact]
    public async Task PutObject_CreateOnly_RefusedWhenTheObjectExists()
    {
        const string key = "write/create-only.txt";
        using var s3 = G.S3();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = "first", IfNoneMatch = "*" });

        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = "second", IfNoneMatch = "*" }));

        Assert.Equal(("PreconditionFailed", HttpStatusCode.PreconditionFailed), (e.ErrorCode, e.StatusCode));
        Assert.Equal("first", Encoding.UTF8.GetString(G.Origin.GetObjectBytes(Bucket, key)!));
    }

    [Fact]
    public async Task PutObject_IfMatch_WritesOnlyOverTheVersionNamed()
    {
        const string key = "write/if-match.txt";
        using var s3 = G.S3();
        var first = await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = "first" });

        var stale = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutObjectAsync(new PutObjectRequest
        { BucketName = Bucket, Key = key, ContentBody = "not this", IfMatch = "\"0123456789abcdef0123456789abcdef\"" }));
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutObjectAsync(new PutObjectRequest
        { BucketName = Bucket, Key = "write/if-match-missing.txt", ContentBody = "x", IfMatch = "*" }));
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = "second", IfMatch = first.ETag });

        Assert.Equal("PreconditionFailed", stale.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("second", Encoding.UTF8.GetString(G.Origin.GetObjectBytes(Bucket, key)!));
        Assert.Null(G.Origin.HeadObject(Bucket, "write/if-match-missing.txt"));
    }

    [Fact]
    public async Task AbortMultipartUpload_UnknownUploadId_NoSuchUpload()
    {
        using var s3 = G.S3();

        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.AbortMultipartUploadAsync(Bucket, "write/never", "0123456789abcdef0123456789abcdef"));

        Assert.Equal(("NoSuchUpload", HttpStatusCode.NotFound), (e.ErrorCode, e.StatusCode));
    }

    [Fact]
    public async Task PutObject_WrongContentMd5_BadDigestAndNothingWritten()
    {
        const string key = "write/bad-md5.bin";
        using var s3 = G.S3();
        long puts = G.Origin.Counters.Puts;

        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Bucket, Key = key, InputStream = new MemoryStream(new byte[5000]), MD5Digest = Convert.ToBase64String(MD5.HashData(new byte[1])),
        }));

        Assert.Equal("BadDigest", e.ErrorCode);
        Assert.Null(G.Origin.HeadObject(Bucket, key));
        Assert.Equal(puts, G.Origin.Counters.Puts);
    }

    [Fact]
    public async Task PutObject_LargeBodyWithWrongChecksum_BadDigestAndNoUploadLeft()
    {
        const string key = "write/bad-crc-large.bin";
        using var s3 = G.S3();
        var data = GatewayCluster.RandomBytes(6 << 20, 15);

        // A checksum header the SDK sends as given: the body (over the single-put limit) is checked before the upload completes.
        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Bucket, Key = key, InputStream = new MemoryStream(data), ChecksumCRC32 = "AAAAAA==",
        }));

        var uploads = await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = key });
        Assert.Equal("BadDigest", e.ErrorCode);
        Assert.Null(G.Origin.HeadObject(Bucket, key));
        Assert.Empty(uploads.MultipartUploads ?? []);
    }

    [Fact]
    public async Task CopyObject_AndUploadPartCopy_CopyTheSourceBytes()
    {
        const string source = "write/copy-source.bin", copy = "write/copy-dest.bin", assembled = "write/copy-parts.bin";
        var data = G.PutAtOrigin(source, 6 * (1 << 20) + 100, seed: 16);
        using var s3 = G.S3(1);

        var copied = await s3.CopyObjectAsync(Bucket, source, Bucket, copy);
        var init = await s3.InitiateMultipartUploadAsync(Bucket, assembled);
        var p1 = await s3.CopyPartAsync(new CopyPartRequest
        { SourceBucket = Bucket, SourceKey = source, DestinationBucket = Bucket, DestinationKey = assembled, UploadId = init.UploadId, PartNumber = 1, FirstByte = 0, LastByte = (5 << 20) - 1 });
        var p2 = await s3.CopyPartAsync(new CopyPartRequest
        { SourceBucket = Bucket, SourceKey = source, DestinationBucket = Bucket, DestinationKey = assembled, UploadId = init.UploadId, PartNumber = 2, FirstByte = 5 << 20, LastByte = data.Length - 1 });
        await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        { BucketName = Bucket, Key = assembled, UploadId = init.UploadId, PartETags = [new PartETag(1, p1.ETag), new PartETag(2, p2.ETag)] });

        Assert.False(string.IsNullOrEmpty(copied.ETag));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(G.Origin.GetObjectBytes(Bucket, copy)!));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(G.Origin.GetObjectBytes(Bucket, assembled)!));
    }

    [Fact]
    public async Task DeleteObjectAndDeleteObjects_RemoveAtTheOrigin()
    {
        using var s3 = G.S3();
        foreach (var k in new[] { "write/del/a", "write/del/b", "write/del/c" })
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = k, ContentBody = k });

        await s3.DeleteObjectAsync(Bucket, "write/del/a");
        var many = await s3.DeleteObjectsAsync(new DeleteObjectsRequest
        { BucketName = Bucket, Objects = [new KeyVersion { Key = "write/del/b" }, new KeyVersion { Key = "write/del/c" }, new KeyVersion { Key = "write/del/never" }] });
        var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "write/del/" });

        Assert.Empty(G.Origin.Keys(Bucket, "write/del/"));
        Assert.Equal(["write/del/b", "write/del/c", "write/del/never"], many.DeletedObjects.Select(d => d.Key).Order());
        Assert.Empty(listed.S3Objects ?? []);
    }

    private static async Task<string> ReadTextAsync(IAmazonS3 s3, string key)
    {
        using var response = await s3.GetObjectAsync(Bucket, key);
        return Encoding.UTF8.GetString(await ReadAllAsync(response.ResponseStream));
    }
}
