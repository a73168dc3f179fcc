using System.Net;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using static OssOrleans.ClusterTests.Gateway.TenantGatewayFixture;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>
/// A gateway with tenants: each refusal is the S3 error a client expects, and costs nothing (the origin sees no request,
/// nothing is written); what a tenant may see is what its grants cover; no secret or signature ends up in an answer or
/// in the audit log.
/// </summary>
[Collection(TenantGatewayCollection.Name)]
public sealed class GatewaySecurityTests(TenantGatewayFixture fixture)
{
    private GatewayCluster G => fixture.Gateway;

    private const string Bucket = GatewayCluster.Bucket;

    private AmazonS3Client Client(string tenant, string? secret = null) => G.S3(0, tenant, secret ?? SecretOf(tenant));

    [Fact]
    public async Task GetObject_WrongSecret_SignatureDoesNotMatchAndNothingServed()
    {
        G.PutAtOrigin("team-a/secret-data.bin", 100, seed: 1);
        using var s3 = Client(Reader, "not-the-secret-of-the-reader");
        long before = G.Origin.Counters.Requests;

        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync(Bucket, "team-a/secret-data.bin"));

        Assert.Equal(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), (e.ErrorCode, e.StatusCode));
        Assert.Equal(before, G.Origin.Counters.Requests);
    }

    [Fact]
    public async Task Request_UnknownKeyOrUnsigned_RefusedBeforeTheOrigin()
    {
        using var unknown = G.S3(0, "no-such-tenant", "whatever-secret-value");
        using var http = new HttpClient();
        long before = G.Origin.Counters.Requests;

        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => unknown.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket }));
        using var unsigned = await http.GetAsync($"{G.Urls[0]}/{Bucket}/team-a/secret-data.bin");
        string body = await unsigned.Content.ReadAsStringAsync();

        Assert.Equal("InvalidAccessKeyId", e.ErrorCode);
        Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code>", body);
        Assert.Equal(before, G.Origin.Counters.Requests);
    }

    [Fact]
    public async Task PresignedUrl_ValidThenExpired_ServedThenRefused()
    {
        var data = G.PutAtOrigin("team-a/presigned.bin", 3000, seed: 2);
        var url = new Uri($"{G.Urls[0]}/{Bucket}/team-a/presigned.bin");
        using var s3 = Client(Reader);
        string valid = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        { BucketName = Bucket, Key = "team-a/presigned.bin", Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP, Verb = HttpVerb.GET });
        string expired = TestSigner.Presign(url, Reader, SecretOf(Reader), DateTimeOffset.UtcNow.AddHours(-2), expiresSeconds: 60);
        using var http = new HttpClient();

        byte[] served = await http.GetByteArrayAsync(valid);
        long before = G.Origin.Counters.Requests;
        using var refused = await http.GetAsync(expired);
        string body = await refused.Content.ReadAsStringAsync();

        Assert.Equal(data, served);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code><Message>Request has expired</Message>", body);
        Assert.Equal(before, G.Origin.Counters.Requests);
    }

    [Fact]
    public async Task Request_SignedAnHourAgo_RequestTimeTooSkewed()
    {
        var url = new Uri($"{G.Urls[0]}/{Bucket}?list-type=2&prefix=team-a%2F");
        var headers = TestSigner.SignHeaders("GET", url, Reader, SecretOf(Reader), DateTimeOffset.UtcNow.AddHours(-1), TestSigner.Sha256Hex([]));
        long before = G.Origin.Counters.Requests;

        using var response = await RawHttp.SendAsync(HttpMethod.Get, url.ToString(), headers);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("<Code>RequestTimeTooSkewed</Code>", body);
        // botocore corrects its clock from the answer's Date header and retries.
        Assert.NotNull(response.Headers.Date);
        Assert.Equal(before, G.Origin.Counters.Requests);
    }

    [Fact]
    public async Task TenantWithoutTheGrant_ReadWriteListOutsideIt_AccessDeniedAndNothingWritten()
    {
        G.PutAtOrigin("team-b/other-team.bin", 100, seed: 3);
        using var reader = Client(Reader);
        using var writer = Client(Writer);
        var before = G.Origin.Counters;

        var read = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => reader.GetObjectAsync(Bucket, "team-b/other-team.bin"));
        var put = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => reader.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "team-a/by-reader", ContentBody = "x" }));
        var putElsewhere = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => writer.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "team-b/by-writer-a", ContentBody = "x" }));
        var multipart = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => writer.InitiateMultipartUploadAsync(Bucket, "team-b/big"));
        var copy = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => writer.CopyObjectAsync(Bucket, "team-b/other-team.bin", Bucket, "team-a/stolen.bin"));
        var list = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => reader.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "team-b/" }));
        var delete = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => writer.DeleteObjectAsync(Bucket, "team-b/other-team.bin"));
        var after = G.Origin.Counters;

        foreach (var e in new[] { read, put, putElsewhere, multipart, copy, list, delete })
            Assert.Equal(("AccessDenied", HttpStatusCode.Forbidden), (e.ErrorCode, e.StatusCode));
        Assert.Equal(before.Requests, after.Requests);
        Assert.Null(G.Origin.HeadObject(Bucket, "team-a/by-reader"));
        Assert.Null(G.Origin.HeadObject(Bucket, "team-b/by-writer-a"));
        Assert.Null(G.Origin.HeadObject(Bucket, "team-a/stolen.bin"));
        Assert.NotNull(G.Origin.HeadObject(Bucket, "team-b/other-team.bin"));
    }

    [Fact]
    public async Task Listings_ShowOnlyWhatTheGrantsCover()
    {
        G.PutAtOrigin("team-a/listed/1", 10, seed: 4);
        G.PutAtOrigin("team-b/hidden/1", 10, seed: 5);
        G.Origin.CreateBucket("bucket-of-nobody");
        using var reader = Client(Reader);

        var root = await reader.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Delimiter = "/" });
        var flat = await reader.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, MaxKeys = 1 });
        var buckets = await reader.ListBucketsAsync();
        var other = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => reader.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "bucket-of-nobody" }));

        Assert.Equal(["team-a/"], root.CommonPrefixes ?? []);
        Assert.Empty(root.S3Objects ?? []);
        Assert.All(flat.S3Objects ?? [], o => Assert.StartsWith("team-a/", o.Key));
        Assert.DoesNotContain("team-b", flat.NextContinuationToken is null ? "" : Encoding.UTF8.GetString(Convert.FromBase64String(Pad(flat.NextContinuationToken))));
        Assert.Equal([Bucket], buckets.Buckets.Select(b => b.BucketName));
        Assert.Equal("AccessDenied", other.ErrorCode);
    }

    [Fact]
    public async Task DeleteObjects_KeysOutsideTheGrant_RefusedOneByOne()
    {
        using var writer = Client(Writer);
        await writer.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "team-a/to-delete", ContentBody = "x" });
        G.PutAtOrigin("team-b/keep-me", 10, seed: 6);

        // The SDK raises per-key errors as an exception that carries the whole answer.
        var e = await Assert.ThrowsAsync<DeleteObjectsException>(() => writer.DeleteObjectsAsync(new DeleteObjectsRequest
        { BucketName = Bucket, Objects = [new KeyVersion { Key = "team-a/to-delete" }, new KeyVersion { Key = "team-b/keep-me" }] }));
        var result = e.Response;

        Assert.Equal(["team-a/to-delete"], result.DeletedObjects.Select(d => d.Key));
        Assert.Equal([("team-b/keep-me", "AccessDenied")], result.DeleteErrors.Select(d => (d.Key, d.Code)));
        Assert.NotNull(G.Origin.HeadObject(Bucket, "team-b/keep-me"));
        Assert.Null(G.Origin.HeadObject(Bucket, "team-a/to-delete"));
    }

    [Fact]
    public async Task CreateBucket_OnlyWithAnAdminGrantOnThatName()
    {
        using var writer = Client(Writer);
        using var admin = Client(Admin);

        var refused = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => writer.PutBucketAsync("made-by-admin"));
        var elsewhere = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => admin.PutBucketAsync("another-name"));
        await admin.PutBucketAsync("made-by-admin");

        Assert.Equal("AccessDenied", refused.ErrorCode);
        Assert.Equal("AccessDenied", elsewhere.ErrorCode);
        Assert.True(G.Origin.BucketExists("made-by-admin"));
        Assert.False(G.Origin.BucketExists("another-name"));
    }

    [Fact]
    public async Task PutObject_BodyNotWhatWasSigned_XAmzContentSHA256MismatchAndNothingWritten()
    {
        var url = new Uri($"{G.Urls[0]}/{Bucket}/team-a/tampered.bin");
        byte[] signedBody = Encoding.UTF8.GetBytes("the body that was signed");
        byte[] sentBody = Encoding.UTF8.GetBytes("a body put in its place!");
        var headers = TestSigner.SignHeaders("PUT", url, Writer, SecretOf(Writer), DateTimeOffset.UtcNow, TestSigner.Sha256Hex(signedBody));
        long puts = G.Origin.Counters.Puts;

        using var response = await RawHttp.SendAsync(HttpMethod.Put, url.ToString(), headers, sentBody);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("<Code>XAmzContentSHA256Mismatch</Code>", await response.Content.ReadAsStringAsync());
        Assert.Equal(puts, G.Origin.Counters.Puts);
        Assert.Null(G.Origin.HeadObject(Bucket, "team-a/tampered.bin"));
    }

    [Fact]
    public async Task Uploads_PerTenantSlots_AStalledUploadHoldsOnlyItsTenantsSlot()
    {
        var stalledUrl = new Uri($"{G.Urls[0]}/{Bucket}/team-a/stalled.bin");
        using var writer = Client(Writer);
        System.Net.Sockets.NetworkStream? stalled = null;
        string? refusal = null;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        try
        {
            while (refusal is null && DateTime.UtcNow < deadline)
            {
                if (stalled is null)
                {
                    var headers = TestSigner.SignHeaders("PUT", stalledUrl, Writer, SecretOf(Writer), DateTimeOffset.UtcNow, TestSigner.Unsigned);
                    stalled = await RawHttp.StartStalledAsync(stalledUrl.ToString(), "PUT", 1 << 20, 1000, headers);
                }
                // A probe of the same tenant with a wrong Content-MD5: one that gets the slot fails its digest and writes nothing.
                var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => writer.PutObjectAsync(new PutObjectRequest
                { BucketName = Bucket, Key = "team-a/probe", ContentBody = "probe", MD5Digest = "AAAAAAAAAAAAAAAAAAAAAA==" }));
                if (e.ErrorCode == "SlowDown")
                {
                    refusal = e.ErrorCode;
                    break;
                }
                Assert.Equal("BadDigest", e.ErrorCode);
                if (stalled.DataAvailable)
                {
                    // The probe held the slot when the stalled upload asked for it, so that one was answered: start it again.
                    await stalled.DisposeAsync();
                    stalled = null;
                }
            }
            using var writerB = Client(WriterB);
            await writerB.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "team-b/not-blocked", ContentBody = "other tenant" });
            string answer = stalled is null ? "" : await RawHttp.ReadAnswerAsync(stalled, TimeSpan.FromSeconds(20));

            Assert.Equal("SlowDown", refusal);
            Assert.NotNull(G.Origin.HeadObject(Bucket, "team-b/not-blocked"));
            Assert.Contains("<Code>RequestTimeout</Code>", answer);
            Assert.Null(G.Origin.HeadObject(Bucket, "team-a/stalled.bin"));
            Assert.Null(G.Origin.HeadObject(Bucket, "team-a/probe"));
        }
        finally
        {
            if (stalled is not null)
                await stalled.DisposeAsync();
        }
    }

    [Fact]
    public async Task AuditAndAnswers_NeverCarryASecretOrSignature()
    {
        using var wrong = Client(Reader, "a-wrong-secret-0123456789");
        using var right = Client(Writer);
        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => wrong.GetObjectAsync(Bucket, "team-a/x"));
        await right.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "team-a/audited", ContentBody = "audited" });

        string audit = await WaitForAuditAsync("team-a/audited");

        Assert.Contains("\"tenant\":\"writer-team-a\"", audit);
        foreach (var tenant in new[] { Reader, Writer, WriterB, Admin })
            Assert.DoesNotContain(SecretOf(tenant), audit);
        Assert.DoesNotContain("a-wrong-secret", audit);
        // A SigV4 signature (or a derived key) is 64 hex digits; a presigned one travels as X-Amz-Signature.
        Assert.DoesNotMatch("[0-9a-fA-F]{64}", audit);
        Assert.DoesNotContain("X-Amz-", audit, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("a-wrong-secret", e.Message);
    }

    private async Task<string> WaitForAuditAsync(string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            string text = File.Exists(fixture.AuditPath) ? await ReadSharedAsync(fixture.AuditPath) : "";
            if (text.Contains(expected, StringComparison.Ordinal) || DateTime.UtcNow > deadline)
                return text;
            await Task.Delay(50);
        }
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    private static string Pad(string base64Url)
    {
        string s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}
