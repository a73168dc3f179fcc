using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using OssOrleans.Storage;
using RetryPolicy = OssOrleans.Storage.RetryPolicy;

namespace OssOrleans.UnitTests.Storage;

/// <summary>The S3 adapter against a fake client: no network.</summary>
public class S3ObjectStoreTests
{
    private static readonly byte[] Content = Enumerable.Range(0, 1024).Select(i => (byte)(i * 7)).ToArray();
    private static readonly OssEndpointInfo Local = OssEndpoint.Resolve("http://127.0.0.1:9000");
    private static readonly OssEndpointInfo Oss = OssEndpoint.Resolve("oss-cn-beijing-internal.aliyuncs.com");

    private static (S3ObjectStore Store, FakeS3 Fake) Create(Func<AmazonWebServiceRequest, object> handler, OssEndpointInfo? endpoint = null, int maxAttempts = 3, CapturingLogger? logger = null)
    {
        (IAmazonS3 client, FakeS3 fake) = FakeS3.Create(handler);
        var retry = new RetryPolicy(maxAttempts, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        return (new S3ObjectStore(client, endpoint ?? Local, retry, logger), fake);
    }

    private static object Serve(AmazonWebServiceRequest request) => request switch
    {
        GetObjectRequest get => FakeS3.Range(Content, get),
        _ => throw new NotSupportedException(request.GetType().Name),
    };

    [Fact]
    public async Task ReadRangeAsync_Exact206_FillsDestinationAndSendsIfMatchAndRange()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(Serve);
        var buffer = new byte[100];

        await store.ReadRangeAsync("bucket", "key", "v1", 10, buffer);

        Assert.Equal(Content[10..110], buffer);
        var get = Assert.IsType<GetObjectRequest>(Assert.Single(fake.Requests));
        Assert.Equal("\"v1\"", get.EtagToMatch);
        Assert.Equal(10, get.ByteRange.Start);
        Assert.Equal(109, get.ByteRange.End);
        Assert.Equal("bucket", get.BucketName);
        Assert.Equal("key", get.Key);
    }

    [Fact]
    public async Task ReadRangeAsync_ZeroLength_MakesNoRequest()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(Serve);

        await store.ReadRangeAsync("bucket", "key", "\"v1\"", 5, Memory<byte>.Empty);
        await store.CopyRangeToAsync("bucket", "key", "\"v1\"", 5, 0, Stream.Null);

        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task ReadRangeAsync_Status200WholeObject_RetriedThenOriginProtocolException()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => new GetObjectResponse
        {
            HttpStatusCode = HttpStatusCode.OK,
            ContentLength = Content.Length,
            ETag = "\"v1\"",
            ResponseStream = new MemoryStream(Content),
        });
        var buffer = new byte[10];

        var ex = await Assert.ThrowsAsync<OriginProtocolException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 10, buffer));

        Assert.Contains("206", ex.Message);
        Assert.Contains("bucket/key", ex.Message);
        Assert.Equal(3, fake.Count<GetObjectRequest>());
        Assert.All(buffer, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData("bytes 0-9/1024")]
    [InlineData("bytes 10-20/1024")]
    [InlineData("bytes 10-19/*")]
    [InlineData("bytes */1024")]
    [InlineData(null)]
    [InlineData("bytes 10-19/15")]
    public async Task ReadRangeAsync_WrongContentRange_OriginProtocolException(string? contentRange)
    {
        (S3ObjectStore store, _) = Create(request => new GetObjectResponse
        {
            HttpStatusCode = HttpStatusCode.PartialContent,
            ContentRange = contentRange,
            ContentLength = 10,
            ETag = "\"v1\"",
            ResponseStream = new MemoryStream(Content[10..20]),
        });

        await Assert.ThrowsAsync<OriginProtocolException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 10, new byte[10]));
    }

    [Fact]
    public async Task ReadRangeAsync_ShortBodyOnce_WholeRangeReadAgain()
    {
        int calls = 0;
        (S3ObjectStore store, _) = Create(request =>
        {
            GetObjectResponse response = FakeS3.Range(Content, (GetObjectRequest)request);
            if (++calls == 1)
            {
                response.ResponseStream = new MemoryStream(Content[10..15]); // ends early
            }
            return response;
        });
        var buffer = new byte[10];

        await store.ReadRangeAsync("bucket", "key", "\"v1\"", 10, buffer);

        Assert.Equal(2, calls);
        Assert.Equal(Content[10..20], buffer);
    }

    [Fact]
    public async Task ReadRangeAsync_AlwaysShortBody_OriginProtocolExceptionNamingTruncation()
    {
        (S3ObjectStore store, _) = Create(request =>
        {
            GetObjectResponse response = FakeS3.Range(Content, (GetObjectRequest)request);
            response.ResponseStream = new MemoryStream(Content[10..15]);
            return response;
        });

        var ex = await Assert.ThrowsAsync<OriginProtocolException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 10, new byte[10]));
        Assert.Contains("ended after 5 of 10 bytes", ex.Message);
    }

    [Fact]
    public async Task ReadRangeAsync_LongerBody_OriginProtocolException()
    {
        (S3ObjectStore store, _) = Create(request =>
        {
            GetObjectResponse response = FakeS3.Range(Content, (GetObjectRequest)request);
            response.ResponseStream = new MemoryStream(Content[10..30]);
            response.ContentLength = 0; // as when no Content-Length header came
            return response;
        });

        var ex = await Assert.ThrowsAsync<OriginProtocolException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 10, new byte[10]));
        Assert.Contains("longer", ex.Message);
    }

    [Fact]
    public async Task ReadRangeAsync_ConnectionDropsMidBody_RetriedAsTransient()
    {
        int calls = 0;
        (S3ObjectStore store, _) = Create(request =>
        {
            GetObjectResponse response = FakeS3.Range(Content, (GetObjectRequest)request);
            if (++calls < 3)
            {
                response.ResponseStream = new FailingStream(Content[10..14], new IOException("The response ended prematurely"));
            }
            return response;
        });
        var buffer = new byte[10];

        await store.ReadRangeAsync("bucket", "key", "\"v1\"", 10, buffer);

        Assert.Equal(3, calls);
        Assert.Equal(Content[10..20], buffer);
    }

    [Fact]
    public async Task ReadRangeAsync_Http412_PreconditionFailedWithoutRetry()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => throw FakeS3.Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed"));

        var ex = await Assert.ThrowsAsync<PreconditionFailedException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 0, new byte[10]));

        Assert.Equal("\"v1\"", ex.ETag);
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task ReadRangeAsync_ResponseWithOtherETag_PreconditionFailed()
    {
        (S3ObjectStore store, _) = Create(request => FakeS3.Range(Content, (GetObjectRequest)request, etag: "\"v2\""));

        await Assert.ThrowsAsync<PreconditionFailedException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 0, new byte[10]));
    }

    [Fact]
    public async Task ReadRangeAsync_Http404_ObjectNotFound()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => throw FakeS3.Error(HttpStatusCode.NotFound, "NoSuchKey"));

        var ex = await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 0, new byte[10]));

        Assert.Equal("key", ex.Key);
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task ReadRangeAsync_RangePastTheEnd_ArgumentOutOfRange()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(request =>
        {
            var get = (GetObjectRequest)request;
            return new GetObjectResponse
            {
                HttpStatusCode = HttpStatusCode.PartialContent,
                ContentRange = $"bytes {get.ByteRange.Start}-1023/1024",
                ContentLength = 1024 - get.ByteRange.Start,
                ETag = "\"v1\"",
                ResponseStream = new MemoryStream(Content[(int)get.ByteRange.Start..]),
            };
        });

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 1000, new byte[100]));
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task ReadRangeAsync_ThrottledThenServed_SucceedsAndLogsRetryWithoutSecrets()
    {
        int calls = 0;
        var logger = new CapturingLogger();
        (S3ObjectStore store, _) = Create(request => ++calls < 3
            ? throw FakeS3.Error(HttpStatusCode.ServiceUnavailable, "SlowDown")
            : FakeS3.Range(Content, (GetObjectRequest)request), logger: logger);
        var buffer = new byte[10];

        await store.ReadRangeAsync("bucket", "key", "\"v1\"", 0, buffer);

        Assert.Equal(Content[..10], buffer);
        var retries = logger.Entries.Where(e => e.Id.Id == 1001).ToList();
        Assert.Equal(2, retries.Count);
        Assert.All(retries, r =>
        {
            Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, r.Level);
            Assert.Contains("bucket/key", r.Message);
            Assert.Contains("SlowDown", r.Message);
        });
    }

    [Fact]
    public async Task ReadRangeAsync_Always503_OriginUnavailableNamingStoreAndKey()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => throw FakeS3.Error(HttpStatusCode.ServiceUnavailable, "SlowDown"), maxAttempts: 4);

        var ex = await Assert.ThrowsAsync<OriginUnavailableException>(() => store.ReadRangeAsync("bucket", "key", "\"v1\"", 0, new byte[10]));

        Assert.Equal(4, fake.Requests.Count);
        Assert.Contains("s3:http://127.0.0.1:9000", ex.Message);
        Assert.Contains("bucket/key", ex.Message);
        Assert.Contains("503", ex.Message);
        Assert.IsType<AmazonS3Exception>(ex.InnerException);
    }

    [Fact]
    public async Task ReadRangeAsync_OssEndpoint_SendsRangeBehaviorHeader()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(Serve, Oss);

        await store.ReadRangeAsync("bucket", "key", "\"v1\"", 0, new byte[10]);

        var get = (GetObjectRequest)fake.Requests[0];
        Assert.Equal("standard", S3ObjectStore.GetExtraHeaders(get)[S3ObjectStore.OssRangeBehaviorHeader]);
        Assert.Equal("\"v1\"", get.EtagToMatch);
    }

    [Fact]
    public async Task CopyRangeToAsync_NonSeekableDestinationFailsMidBody_NotRetried()
    {
        int calls = 0;
        (S3ObjectStore store, _) = Create(request =>
        {
            calls++;
            GetObjectResponse response = FakeS3.Range(Content, (GetObjectRequest)request);
            response.ResponseStream = new FailingStream(Content[..100], new IOException("connection reset"));
            return response;
        });
        using var sink = new NonSeekableStream();

        var ex = await Assert.ThrowsAsync<OriginUnavailableException>(() => store.CopyRangeToAsync("bucket", "key", "\"v1\"", 0, 500, sink));

        Assert.Equal(1, calls);
        Assert.Contains("100 of 500", ex.Message);
    }

    [Fact]
    public async Task CopyRangeToAsync_SeekableDestinationFailsMidBody_RewindsAndRetries()
    {
        int calls = 0;
        (S3ObjectStore store, _) = Create(request =>
        {
            GetObjectResponse response = FakeS3.Range(Content, (GetObjectRequest)request);
            if (++calls == 1)
            {
                response.ResponseStream = new FailingStream(Content[..100], new IOException("connection reset"));
            }
            return response;
        });
        using var sink = new MemoryStream();
        sink.Write([9, 9, 9]);

        await store.CopyRangeToAsync("bucket", "key", "\"v1\"", 0, 500, sink);

        Assert.Equal(2, calls);
        Assert.Equal([9, 9, 9, .. Content[..500]], sink.ToArray());
    }

    [Fact]
    public async Task HeadAsync_MapsMetadataAndOssCrc64()
    {
        (S3ObjectStore store, _) = Create(_ =>
        {
            var response = new GetObjectMetadataResponse
            {
                ContentLength = 1024,
                ETag = "\"abc\"",
                LastModified = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc),
                ResponseMetadata = new ResponseMetadata(),
            };
            response.Headers.ContentType = "text/plain";
            response.ResponseMetadata.Metadata[S3ObjectStore.Crc64Header] = "11051210869376104954";
            return response;
        });

        ObjectMetadata head = await store.HeadAsync("bucket", "key");

        Assert.Equal(new ObjectMetadata("key", 1024, "\"abc\"", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), 0x995DC9BBDF1939FAUL, "text/plain"), head);
    }

    [Fact]
    public async Task HeadAsync_Http404_ObjectNotFound()
    {
        (S3ObjectStore store, _) = Create(_ => throw FakeS3.Error(HttpStatusCode.NotFound, "NotFound"));

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync("bucket", "key"));
    }

    [Fact]
    public async Task HeadAsync_Http403_ObjectStoreExceptionWithoutRetry()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => throw FakeS3.Error(HttpStatusCode.Forbidden, "AccessDenied"));

        var ex = await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("bucket", "key"));

        Assert.Contains("403", ex.Message);
        Assert.Single(fake.Requests);
    }

    [Theory]
    [InlineData(1000, 1000)]
    [InlineData(5000, 1000)]
    [InlineData(7, 7)]
    public async Task ListPageAsync_SendsMaxKeysExplicitlyAndMapsThePage(int asked, int sent)
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => new ListObjectsV2Response
        {
            S3Objects = [new S3Object { Key = "p/a", Size = 3, ETag = "\"e\"", LastModified = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc) }],
            CommonPrefixes = ["p/d/"],
            IsTruncated = true,
            NextContinuationToken = "next",
        });

        ListPage page = await store.ListPageAsync(new ListRequest("bucket", "p/") { Delimiter = "/", MaxKeys = asked, StartAfter = "p/0", ContinuationToken = "tok" });

        var list = Assert.IsType<ListObjectsV2Request>(Assert.Single(fake.Requests));
        Assert.Equal(sent, list.MaxKeys);
        Assert.Equal("p/", list.Prefix);
        Assert.Equal("/", list.Delimiter);
        Assert.Equal("p/0", list.StartAfter);
        Assert.Equal("tok", list.ContinuationToken);
        Assert.Equal([new ListEntry("p/a", 3, "\"e\"", new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))], page.Entries);
        Assert.Equal(["p/d/"], page.CommonPrefixes);
        Assert.True(page.IsTruncated);
        Assert.Equal("next", page.NextContinuationToken);
    }

    [Fact]
    public async Task ListPageAsync_DefaultRequest_Sends1000()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => new ListObjectsV2Response { IsTruncated = false });

        ListPage page = await store.ListPageAsync(new ListRequest("bucket"));

        Assert.Equal(1000, ((ListObjectsV2Request)fake.Requests[0]).MaxKeys);
        Assert.Empty(page.Entries);
        Assert.Empty(page.CommonPrefixes);
        Assert.Null(page.NextContinuationToken);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("same", "same")]
    public async Task ListPageAsync_TruncatedWithoutUsableToken_OriginProtocolException(string? next, string? asked)
    {
        (S3ObjectStore store, _) = Create(_ => new ListObjectsV2Response { IsTruncated = true, NextContinuationToken = next });

        await Assert.ThrowsAsync<OriginProtocolException>(() => store.ListPageAsync(new ListRequest("bucket") { ContinuationToken = asked }));
    }

    [Fact]
    public async Task PutAsync_SendsBodyWithoutChunkEncoding()
    {
        byte[]? sent = null;
        (S3ObjectStore store, FakeS3 fake) = Create(request =>
        {
            var put = (PutObjectRequest)request;
            using var copy = new MemoryStream();
            put.InputStream.CopyTo(copy);
            sent = copy.ToArray();
            return new PutObjectResponse { ETag = "\"put\"" };
        });
        byte[] content = [1, 2, 3, 4, 5];

        PutResult result = await store.PutAsync("bucket", "key", new ReadOnlyMemory<byte>(content, 1, 3), new PutOptions { ContentType = "application/x-test" });

        var request = (PutObjectRequest)fake.Requests[0];
        Assert.False(request.UseChunkEncoding);
        Assert.Equal("application/x-test", request.ContentType);
        Assert.Null(request.IfNoneMatch);
        Assert.Equal([2, 3, 4], sent);
        Assert.Equal("\"put\"", result.ETag);
    }

    [Fact]
    public async Task PutAsync_CreateOnly_SendsIfNoneMatchToS3AndForbidOverwriteToOss()
    {
        (S3ObjectStore s3, FakeS3 s3Fake) = Create(_ => new PutObjectResponse { ETag = "\"e\"" });
        (S3ObjectStore oss, FakeS3 ossFake) = Create(_ => new PutObjectResponse { ETag = "\"e\"" }, Oss);
        var options = new PutOptions { CreateOnly = true };

        await s3.PutAsync("bucket", "key", new byte[1], options);
        await oss.PutAsync("bucket", "key", new byte[1], options);

        var s3Request = (PutObjectRequest)s3Fake.Requests[0];
        var ossRequest = (PutObjectRequest)ossFake.Requests[0];
        Assert.Equal("*", s3Request.IfNoneMatch);
        Assert.Equal("true", ossRequest.Headers[S3ObjectStore.OssForbidOverwriteHeader]);
        Assert.Null(ossRequest.IfNoneMatch);
    }

    [Theory]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    [InlineData(HttpStatusCode.Conflict)]
    public async Task PutAsync_CreateOnlyOnExisting_ObjectAlreadyExists(HttpStatusCode status)
    {
        (S3ObjectStore store, FakeS3 fake) = Create(_ => throw FakeS3.Error(status, "Exists"));

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => store.PutAsync("bucket", "key", new byte[1], new PutOptions { CreateOnly = true }));
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task PutAsync_CreateOnlyRetryFindsItsOwnWrite_Succeeds()
    {
        byte[] content = [1, 2, 3];
        string md5 = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(content));
        int puts = 0;
        (S3ObjectStore store, _) = Create(request => request switch
        {
            PutObjectRequest when ++puts == 1 => throw new IOException("response lost"),
            PutObjectRequest => throw FakeS3.Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed"),
            GetObjectMetadataRequest => new GetObjectMetadataResponse { ETag = $"\"{md5}\"" },
            _ => throw new NotSupportedException(),
        });

        PutResult result = await store.PutAsync("bucket", "key", content, new PutOptions { CreateOnly = true });

        Assert.Equal($"\"{md5}\"", result.ETag);
    }

    [Fact]
    public async Task Multipart_CreateOnly_MarksUploadIdAndConditionsCompletion()
    {
        (S3ObjectStore store, FakeS3 fake) = Create(request => request switch
        {
            InitiateMultipartUploadRequest => new InitiateMultipartUploadResponse { UploadId = "server-id" },
            UploadPartRequest part => new UploadPartResponse { ETag = $"\"p{part.PartNumber}\"" },
            CompleteMultipartUploadRequest => new CompleteMultipartUploadResponse { ETag = "\"whole-2\"" },
            _ => throw new NotSupportedException(),
        });

        string uploadId = await store.InitiateMultipartAsync("bucket", "key", new PutOptions { CreateOnly = true });
        UploadedPart p2 = await store.UploadPartAsync("bucket", "key", uploadId, 2, new byte[3]);
        UploadedPart p1 = await store.UploadPartAsync("bucket", "key", uploadId, 1, new byte[5]);
        PutResult result = await store.CompleteMultipartAsync("bucket", "key", uploadId, [p1, p2]);

        Assert.Equal(S3ObjectStore.CreateOnlyUploadPrefix + "server-id", uploadId);
        Assert.All(fake.Requests.OfType<UploadPartRequest>(), r =>
        {
            Assert.Equal("server-id", r.UploadId);
            Assert.False(r.UseChunkEncoding);
        });
        Assert.Equal(new UploadedPart(1, "\"p1\"", 5), p1);
        var complete = fake.Requests.OfType<CompleteMultipartUploadRequest>().Single();
        Assert.Equal("server-id", complete.UploadId);
        Assert.Equal("*", complete.IfNoneMatch);
        Assert.Equal([1, 2], complete.PartETags.Select(p => p.PartNumber ?? 0));
        Assert.Equal("\"whole-2\"", result.ETag);
    }

    [Theory]
    [InlineData(HttpStatusCode.MethodNotAllowed)]
    [InlineData(HttpStatusCode.NotImplemented)]
    public async Task AbortMultipartAsync_ServerCannotAbort_NotSupported(HttpStatusCode status)
    {
        (S3ObjectStore store, _) = Create(_ => throw FakeS3.Error(status, "NotImplemented"));

        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => store.AbortMultipartAsync("bucket", "key", "upload"));
        Assert.Contains("does not support AbortMultipartUpload", ex.Message);
    }

    [Fact]
    public async Task DeleteAsync_Missing_NoError()
    {
        (S3ObjectStore store, _) = Create(_ => throw FakeS3.Error(HttpStatusCode.NotFound, "NoSuchKey"));

        await store.DeleteAsync("bucket", "key");
    }

    [Fact]
    public void CreateConfig_HasTheRequiredClientSettings()
    {
        var options = new S3StoreOptions { Endpoint = "oss-cn-beijing-internal.aliyuncs.com", RequestTimeout = TimeSpan.FromSeconds(12), MaxConnections = 17 };

        AmazonS3Config config = S3ObjectStore.CreateConfig(options, OssEndpoint.Resolve(options.Endpoint));

        Assert.Equal(0, config.MaxErrorRetry);
        Assert.Equal(RequestChecksumCalculation.WHEN_REQUIRED, config.RequestChecksumCalculation);
        Assert.Equal(ResponseChecksumValidation.WHEN_REQUIRED, config.ResponseChecksumValidation);
        Assert.False(config.ForcePathStyle);
        Assert.Equal("cn-beijing", config.AuthenticationRegion);
        Assert.StartsWith("http://s3.oss-cn-beijing-internal.aliyuncs.com", config.ServiceURL);
        Assert.True(config.UseHttp);
        Assert.Equal(TimeSpan.FromSeconds(12), config.Timeout);
        Assert.Equal(17, config.MaxConnectionsPerServer);
    }

    [Fact]
    public void Constructor_LocalEndpoint_PathStyleAndNameWithoutCredentials()
    {
        var logger = new CapturingLogger<S3ObjectStore>();
        using var store = new S3ObjectStore(
            new S3StoreOptions { Endpoint = "http://127.0.0.1:4568", AccessKeyId = "S3RVER-ID-1234", AccessKeySecret = "SECRET-do-not-log-123" }, logger);

        Assert.Equal("s3:http://127.0.0.1:4568", store.Name);
        string created = Assert.Single(logger.Inner.Entries, e => e.Id.Id == 1000).Message;
        Assert.Contains("path-style", created);
        Assert.DoesNotContain("SECRET-do-not-log-123", created);
        Assert.DoesNotContain("S3RVER-ID-1234", created);
    }

    [Fact]
    public void Constructor_InvalidOptions_ArgumentExceptionNamingEachBadOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new S3ObjectStore(
            new S3StoreOptions { Endpoint = "ftp://x", MaxAttempts = 0, AccessKeyId = "id" }));

        Assert.Contains("S3StoreOptions.Endpoint", ex.Message);
        Assert.Contains("S3StoreOptions.MaxAttempts", ex.Message);
        Assert.Contains("S3StoreOptions.AccessKeySecret", ex.Message);
    }

    [Fact]
    public void Constructor_NoCredentials_CredentialsExceptionNamingSources()
    {
        var ex = Assert.Throws<CredentialsException>(() => new S3ObjectStore(
            new S3StoreOptions { Endpoint = "http://127.0.0.1:4568" }, logger: null, time: null, getEnvironmentVariable: _ => null));

        Assert.Contains("OSS_ACCESS_KEY_ID", ex.Message);
    }

    [Fact]
    public void Validator_DefaultsWithEndpoint_Valid()
    {
        Assert.True(new S3StoreOptionsValidator().Validate(null, new S3StoreOptions { Endpoint = "localhost:9000" }).Succeeded);
    }

    [Theory]
    [InlineData(nameof(S3StoreOptions.MaxDelay))]
    [InlineData(nameof(S3StoreOptions.RequestTimeout))]
    [InlineData(nameof(S3StoreOptions.MaxConnections))]
    [InlineData(nameof(S3StoreOptions.SessionToken))]
    [InlineData(nameof(S3StoreOptions.BaseDelay))]
    public void Validator_BadValue_FailureNamesTheOption(string option)
    {
        var options = new S3StoreOptions { Endpoint = "localhost:9000" };
        switch (option)
        {
            case nameof(S3StoreOptions.MaxDelay): options.MaxDelay = TimeSpan.FromMilliseconds(1); break;
            case nameof(S3StoreOptions.RequestTimeout): options.RequestTimeout = TimeSpan.Zero; break;
            case nameof(S3StoreOptions.MaxConnections): options.MaxConnections = 0; break;
            case nameof(S3StoreOptions.SessionToken): options.SessionToken = "t"; break;
            case nameof(S3StoreOptions.BaseDelay): options.BaseDelay = TimeSpan.FromSeconds(-1); break;
        }

        var result = new S3StoreOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("S3StoreOptions." + option, result.FailureMessage);
    }

    [Theory]
    [InlineData("bytes 0-9/10", true, 0, 9, 10)]
    [InlineData("bytes 5-5/6", true, 5, 5, 6)]
    [InlineData("bytes 0-9/9", false, 0, 0, 0)]
    [InlineData("bytes 9-0/10", false, 0, 0, 0)]
    [InlineData("bytes -1-9/10", false, 0, 0, 0)]
    [InlineData("bytes 0-9/*", false, 0, 0, 0)]
    [InlineData("items 0-9/10", false, 0, 0, 0)]
    [InlineData("bytes 0-9/10 ", false, 0, 0, 0)]
    public void TryParseContentRange_StrictFormat(string value, bool ok, long first, long last, long size)
    {
        Assert.Equal(ok, S3ObjectStore.TryParseContentRange(value, out long f, out long l, out long s));
        if (ok)
        {
            Assert.Equal((first, last, size), (f, l, s));
        }
    }

    /// <summary>Yields some bytes, then throws.</summary>
    private sealed class FailingStream(byte[] prefix, Exception error) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= prefix.Length)
            {
                throw error;
            }
            int n = Math.Min(count, prefix.Length - _position);
            Array.Copy(prefix, _position, buffer, offset, n);
            _position += n;
            return n;
        }
    }

    private sealed class NonSeekableStream : MemoryStream
    {
        public override bool CanSeek => false;
    }
}
