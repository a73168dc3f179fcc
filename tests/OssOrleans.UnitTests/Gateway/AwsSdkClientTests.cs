using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using OssOrleans.Gateway.Protocol;
using Xunit.Abstractions;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// What AWSSDK.S3 4.x really sends, recorded by a loopback endpoint built from the gateway's pieces, then replayed:
/// accepted as sent, refused after any one-byte change.
/// </summary>
public class AwsSdkClientTests(ITestOutputHelper output)
{
    private static AmazonS3Client Client(RecordingS3Server server, Action<AmazonS3Config>? configure = null)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = server.Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            HttpClientFactory = new TrustingHttpClientFactory(),
        };
        configure?.Invoke(config);
        return new AmazonS3Client(new BasicAWSCredentials(RecordingS3Server.AccessKeyId, RecordingS3Server.Secret), config);
    }

    private static byte[] Content(int length)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)('a' + i % 26);
        return bytes;
    }

    private async Task<RecordedRequest> PutAndReplayAsync(RecordingS3Server server, AmazonS3Client client, PutObjectRequest request, byte[] content)
    {
        await client.PutObjectAsync(request);

        var recorded = server.Requests.Last(r => r.Method == "PUT");
        output.WriteLine(recorded.ToString());
        Assert.Null(recorded.Error);
        Assert.Equal(content, server.Objects[$"{request.BucketName}/{request.Key}"]);
        var (_, decoded) = await RecordingReplay.AcceptAsync(recorded);
        Assert.Equal(content, decoded);
        output.WriteLine("refused with: " + string.Join(", ", await RecordingReplay.AssertChangesRefusedAsync(recorded)));
        return recorded;
    }

    [Theory]
    [InlineData(false, 100)]
    [InlineData(false, 200_000)]
    [InlineData(true, 200_000)]
    public async Task PutObject_DefaultSettings_IsAcceptedAndAnyChangeRefused(bool https, int length)
    {
        await using var server = await RecordingS3Server.StartAsync(https);
        using var client = Client(server);
        byte[] content = Content(length);

        var recorded = await PutAndReplayAsync(server, client,
            new PutObjectRequest { BucketName = "bucket", Key = "dir/a b+c.txt", InputStream = new MemoryStream(content) }, content);

        // The SDK's defaults (4.1.0): signed aws-chunked with a CRC32 trailer, over TLS as well as over http.
        Assert.Equal("aws-chunked", recorded.Headers.ContentEncoding.ToString());
        Assert.Equal("x-amz-checksum-crc32", recorded.Headers["x-amz-trailer"].ToString());
        Assert.Equal(PayloadMode.StreamingSignedTrailer, recorded.Outcome!.Authentication!.PayloadMode);
    }

    [Fact]
    public async Task PutObject_WithoutChunkEncoding_SendsASignedSha256()
    {
        await using var server = await RecordingS3Server.StartAsync();
        using var client = Client(server);
        byte[] content = Content(5000);

        var recorded = await PutAndReplayAsync(server, client,
            new PutObjectRequest { BucketName = "bucket", Key = "plain", InputStream = new MemoryStream(content), UseChunkEncoding = false }, content);

        Assert.Equal(PayloadMode.Sha256, recorded.Outcome!.Authentication!.PayloadMode);
    }

    [Theory]
    [InlineData(true, "StreamingUnsignedTrailer")]
    [InlineData(false, "Unsigned")]
    public async Task PutObject_PayloadSigningDisabledOverTls_IsAccepted(bool checksum, string mode)
    {
        await using var server = await RecordingS3Server.StartAsync(https: true);
        using var client = Client(server, c => c.RequestChecksumCalculation = checksum ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED);
        byte[] content = Content(70_000);

        var recorded = await PutAndReplayAsync(server, client,
            new PutObjectRequest { BucketName = "bucket", Key = "unsigned", InputStream = new MemoryStream(content), DisablePayloadSigning = true, UseChunkEncoding = false },
            content);

        Assert.Equal(mode, recorded.Outcome!.Authentication!.PayloadMode.ToString());
    }

    [Fact]
    public async Task PutObject_WithoutChecksum_IsAcceptedAsSignedChunks()
    {
        await using var server = await RecordingS3Server.StartAsync();
        using var client = Client(server, c => c.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED);
        byte[] content = Content(100_000);

        var recorded = await PutAndReplayAsync(server, client,
            new PutObjectRequest { BucketName = "bucket", Key = "no-checksum", InputStream = new MemoryStream(content) }, content);

        output.WriteLine(recorded.Outcome!.Authentication!.PayloadMode.ToString());
    }

    [Fact]
    public async Task MultipartUpload_ThroughTheSdk_UsesTheGatewayXml()
    {
        await using var server = await RecordingS3Server.StartAsync();
        using var client = Client(server);
        byte[] part1 = Content(5 << 20), part2 = Content(1000);

        var initiate = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "bucket", Key = "big & <odd> key" });
        var etags = new List<PartETag>();
        foreach (var (number, part) in new[] { (1, part1), (2, part2) })
        {
            var uploaded = await client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = "bucket", Key = "big & <odd> key", UploadId = initiate.UploadId, PartNumber = number, InputStream = new MemoryStream(part),
            });
            etags.Add(new PartETag(number, uploaded.ETag));
        }
        var complete = await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "bucket", Key = "big & <odd> key", UploadId = initiate.UploadId, PartETags = etags,
        });

        Assert.Equal("big & <odd> key", initiate.Key);
        Assert.EndsWith("-2\"", complete.ETag);
        Assert.Equal([.. part1, .. part2], server.Objects["bucket/big & <odd> key"]);
        foreach (var recorded in server.Requests.Where(r => r.Operation == S3Operation.UploadPart))
        {
            output.WriteLine(recorded.ToString());
            await RecordingReplay.AcceptAsync(recorded);
            await RecordingReplay.AssertChangesRefusedAsync(recorded);
        }
    }

    [Fact]
    public async Task PresignedGetUrl_FetchedByHttpClient_IsAcceptedAndAnyChangeRefused()
    {
        await using var server = await RecordingS3Server.StartAsync();
        using var client = Client(server);
        server.Objects["bucket/photos/ü ñ.jpg"] = Content(1234);

        string url = await client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "bucket", Key = "photos/ü ñ.jpg", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(10), Protocol = Protocol.HTTP,
            ResponseHeaderOverrides = { ContentDisposition = "attachment; filename=\"x.jpg\"" },
        });
        using var http = new HttpClient();
        using var response = await http.GetAsync(url);

        var recorded = server.Requests.Last();
        output.WriteLine(url);
        output.WriteLine(recorded.ToString());
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Content(1234), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("attachment; filename=\"x.jpg\"", response.Content.Headers.ContentDisposition?.ToString());
        var (auth, _) = await RecordingReplay.AcceptAsync(recorded);
        Assert.True(auth!.IsPresigned);
        await RecordingReplay.AssertChangesRefusedAsync(recorded);
    }

    [Fact]
    public async Task GetObject_RangeAndConditions_AreAnsweredAsTheSdkExpects()
    {
        await using var server = await RecordingS3Server.StartAsync();
        using var client = Client(server);
        byte[] content = Content(1000);
        server.Objects["bucket/k"] = content;

        using var ranged = await client.GetObjectAsync(new GetObjectRequest { BucketName = "bucket", Key = "k", ByteRange = new Amazon.S3.Model.ByteRange(10, 19) });
        var notModified = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() =>
            client.GetObjectAsync(new GetObjectRequest { BucketName = "bucket", Key = "k", EtagToNotMatch = ranged.ETag }));
        var unsatisfiable = await Assert.ThrowsAsync<AmazonS3Exception>(() =>
            client.GetObjectAsync(new GetObjectRequest { BucketName = "bucket", Key = "k", ByteRange = new Amazon.S3.Model.ByteRange(5000, 6000) }));

        var body = new MemoryStream();
        await ranged.ResponseStream.CopyToAsync(body);
        Assert.Equal(content[10..20], body.ToArray());
        Assert.Equal("bytes 10-19/1000", ranged.ContentRange);
        Assert.Equal(System.Net.HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal("InvalidRange", unsatisfiable.ErrorCode);
    }

    [Fact]
    public async Task ListObjectsV2_KeysThatNeedEscaping_ParseBackInTheSdk()
    {
        await using var server = await RecordingS3Server.StartAsync();
        using var client = Client(server);
        string[] keys = ["dir/a b.txt", "dir/a&b<c>\"d'.txt", "dir/ünïcødé.bin", "dir/plus+sign", "dir/sub/x", "dir/line\r\nbreak"];
        foreach (string key in keys)
            server.Objects["bucket/" + key] = [1];

        var plain = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "bucket", Prefix = "dir/", Delimiter = "/" });
        var encoded = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "bucket", Prefix = "dir/", Delimiter = "/", Encoding = EncodingType.Url });

        string[] expected = [.. keys.Where(k => k != "dir/sub/x").Order(StringComparer.Ordinal)];
        Assert.Equal(expected, plain.S3Objects.Select(o => o.Key));
        Assert.Equal(["dir/sub/"], plain.CommonPrefixes);
        Assert.Equal(expected, encoded.S3Objects.Select(o => Uri.UnescapeDataString(o.Key)));
        Assert.All(plain.S3Objects, o => Assert.Equal(new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc), o.LastModified!.Value.ToUniversalTime()));
    }

    [Fact]
    public async Task WrongSecret_IsSignatureDoesNotMatchInTheSdk()
    {
        await using var server = await RecordingS3Server.StartAsync();
        var config = new AmazonS3Config { ServiceURL = server.Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 };
        using var client = new AmazonS3Client(new BasicAWSCredentials(RecordingS3Server.AccessKeyId, "wrong"), config);
        using var unknown = new AmazonS3Client(new BasicAWSCredentials("UNKNOWNKEY", "wrong"), config);

        var mismatch = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "k", ContentBody = "x" }));
        var unknownKey = await Assert.ThrowsAsync<AmazonS3Exception>(() => unknown.GetObjectAsync("bucket", "k"));

        Assert.Equal("SignatureDoesNotMatch", mismatch.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, mismatch.StatusCode);
        Assert.Equal("test-request", mismatch.RequestId);
        Assert.Equal("InvalidAccessKeyId", unknownKey.ErrorCode);
    }

    private sealed class TrustingHttpClientFactory : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });
    }
}
