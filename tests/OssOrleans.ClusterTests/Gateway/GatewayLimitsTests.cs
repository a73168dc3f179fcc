using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using static OssOrleans.ClusterTests.ReadTestHelpers;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>Bounds and checks on what clients send, and addressing, in a cluster without tenants (any or no signature).</summary>
[Collection(AnonymousGatewayCollection.Name)]
public sealed class GatewayLimitsTests(AnonymousGatewayFixture fixture)
{
    private GatewayCluster G => fixture.Gateway;

    private const string Bucket = GatewayCluster.Bucket;

    [Fact]
    public async Task PutObject_UnsignedChunksWithWrongCrc32Trailer_BadDigestAndNothingWritten()
    {
        byte[] data = GatewayCluster.RandomBytes(20_000, 21);
        byte[] body = Chunked(data, 8192, ("x-amz-checksum-crc32", "AAAAAA=="));
        var headers = new Dictionary<string, string>
        {
            ["Content-Encoding"] = "aws-chunked",
            ["x-amz-content-sha256"] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            ["x-amz-decoded-content-length"] = data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["x-amz-trailer"] = "x-amz-checksum-crc32",
        };
        long puts = G.Origin.Counters.Puts;

        using var response = await RawHttp.SendAsync(HttpMethod.Put, $"{G.Urls[0]}/{Bucket}/limits/bad-trailer.bin", headers, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("<Code>BadDigest</Code>", await response.Content.ReadAsStringAsync());
        Assert.Equal(puts, G.Origin.Counters.Puts);
        Assert.Null(G.Origin.HeadObject(Bucket, "limits/bad-trailer.bin"));
    }

    [Fact]
    public async Task DeleteObjects_BodyOverItsLimit_RefusedAndNothingDeleted()
    {
        G.PutAtOrigin("limits/keep", 10, seed: 22);
        var xml = new StringBuilder("<Delete><Object><Key>limits/keep</Key></Object>");
        while (xml.Length < 3 << 20)
            xml.Append("<Object><Key>limits/padding-padding-padding-padding</Key></Object>");
        byte[] body = Encoding.UTF8.GetBytes(xml.Append("</Delete>").ToString());
        var headers = new Dictionary<string, string> { ["Content-MD5"] = Convert.ToBase64String(MD5.HashData(body)) };

        using var response = await RawHttp.SendAsync(HttpMethod.Post, $"{G.Urls[0]}/{Bucket}?delete", headers, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(G.Origin.HeadObject(Bucket, "limits/keep"));
    }

    [Fact]
    public async Task DeleteObjects_WithoutContentMd5OrChecksum_Refused()
    {
        G.PutAtOrigin("limits/keep-too", 10, seed: 23);
        byte[] body = Encoding.UTF8.GetBytes("<Delete><Object><Key>limits/keep-too</Key></Object></Delete>");

        using var response = await RawHttp.SendAsync(HttpMethod.Post, $"{G.Urls[0]}/{Bucket}?delete", new Dictionary<string, string>(), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Content-MD5", await response.Content.ReadAsStringAsync());
        Assert.NotNull(G.Origin.HeadObject(Bucket, "limits/keep-too"));
    }

    [Fact]
    public async Task PutObject_BodyStopsArriving_RequestTimeoutAndNothingWritten()
    {
        long puts = G.Origin.Counters.Puts;
        using var stalled = await RawHttp.StartStalledAsync($"{G.Urls[1]}/{Bucket}/limits/stalled.bin", "PUT", 100_000, 1000);

        string answer = await RawHttp.ReadAnswerAsync(stalled, TimeSpan.FromSeconds(20));

        Assert.StartsWith("HTTP/1.1 400", answer);
        Assert.Contains("<Code>RequestTimeout</Code>", answer);
        Assert.Equal(puts, G.Origin.Counters.Puts);
        Assert.Null(G.Origin.HeadObject(Bucket, "limits/stalled.bin"));
    }

    [Fact]
    public async Task PutObject_DeclaredLargerThanAllowed_EntityTooLargeBeforeTheBody()
    {
        // The declared size is judged before a byte is read: a client cannot make the gateway buffer past its limits.
        using var stalled = await RawHttp.StartStalledAsync($"{G.Urls[0]}/{Bucket}/limits/huge.bin", "PUT", 6L << 30, 0);

        string answer = await RawHttp.ReadAnswerAsync(stalled, TimeSpan.FromSeconds(10));

        Assert.Contains("<Code>EntityTooLarge</Code>", answer);
    }

    [Fact]
    public async Task VirtualHostedAddressing_BucketFromTheHost_ServesTheSameObject()
    {
        var data = G.PutAtOrigin("vhost/object.bin", 5000, seed: 24);
        int port = new Uri(G.Urls[0]).Port;
        using var s3 = new AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials("any", "any-secret-value"), new AmazonS3Config
        {
            ServiceURL = $"http://{AnonymousGatewayFixture.VirtualHostDomain}:{port}",
            ForcePathStyle = false,
            AuthenticationRegion = "us-east-1",
            HttpClientFactory = new LoopbackHttpClientFactory(),
            MaxErrorRetry = 0,
        });

        using var response = await s3.GetObjectAsync(Bucket, "vhost/object.bin");
        var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "vhost/" });

        Assert.Equal(data, await ReadAllAsync(response.ResponseStream));
        Assert.Equal(["vhost/object.bin"], (listed.S3Objects ?? []).Select(o => o.Key));
    }

    private static byte[] Chunked(byte[] data, int chunkSize, (string Name, string Value) trailer)
    {
        var output = new MemoryStream();
        void Write(string text) => output.Write(Encoding.ASCII.GetBytes(text));
        for (int at = 0; at < data.Length; at += chunkSize)
        {
            int n = Math.Min(chunkSize, data.Length - at);
            Write($"{n:x}\r\n");
            output.Write(data, at, n);
            Write("\r\n");
        }
        Write($"0\r\n{trailer.Name}:{trailer.Value}\r\n\r\n");
        return output.ToArray();
    }
}
