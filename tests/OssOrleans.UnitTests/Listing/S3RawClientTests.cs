using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using System.Text;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Listing;

public sealed class S3RawClientTests
{
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Authorization_AwsDocumentationListExample_HasTheDocumentedSignature()
    {
        // "Example: GET Bucket (List Objects)" from the SigV4 documentation for S3.
        string header = S3RawClient.Authorization("GET", "examplebucket.s3.amazonaws.com", "/", "max-keys=2&prefix=J", EmptyHash, "20130524T000000Z", "us-east-1",
            "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: null);
        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7", header);
    }

    [Fact]
    public void Authorization_SessionToken_IsSigned()
    {
        string header = S3RawClient.Authorization("GET", "h", "/b/", "list-type=2", EmptyHash, "20130524T000000Z", "us-east-1", "AK", "SK", "token");
        Assert.Contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,", header);
        Assert.NotEqual(header, S3RawClient.Authorization("GET", "h", "/b/", "list-type=2", EmptyHash, "20130524T000000Z", "us-east-1", "AK", "SK", "other"));
    }

    [Fact]
    public void Authorization_MethodAndPayloadHash_AreSigned()
    {
        string get = S3RawClient.Authorization("GET", "h", "/b/k", "partNumber=1&uploadId=u", EmptyHash, "20130524T000000Z", "us-east-1", "AK", "SK", null);
        string put = S3RawClient.Authorization("PUT", "h", "/b/k", "partNumber=1&uploadId=u", EmptyHash, "20130524T000000Z", "us-east-1", "AK", "SK", null);
        string unsigned = S3RawClient.Authorization("PUT", "h", "/b/k", "partNumber=1&uploadId=u", S3RawClient.UnsignedPayload, "20130524T000000Z", "us-east-1", "AK", "SK", null);
        Assert.Equal(3, new[] { get, put, unsigned }.Distinct().Count());
    }

    [Theory]
    [InlineData("a/b/c.bin", "a/b/c.bin")]
    [InlineData("a b/c+d", "a%20b/c%2Bd")]
    [InlineData("a//b/", "a//b/")]
    [InlineData("é/😀", "%C3%A9/%F0%9F%98%80")]
    public void EncodePath_EncodesEachSegmentAndKeepsSlashes(string key, string expected) =>
        Assert.Equal(expected, S3RawClient.EncodePath(key));

    [Theory]
    [InlineData("a/b.bin", true)]
    [InlineData("..a/b..", true)]
    [InlineData("a/../b", false)]
    [InlineData("./a", false)]
    [InlineData("a/..", false)]
    public void CanAddress_RefusesDotSegments(string key, bool expected) =>
        Assert.Equal(expected, S3RawClient.CanAddress(key));

    [Theory]
    [InlineData("a-b_c.d~e", "a-b_c.d~e")]
    [InlineData("a b/c+d=é", "a%20b%2Fc%2Bd%3D%C3%A9")]
    [InlineData("!'()*", "%21%27%28%29%2A")]
    [InlineData("😀", "%F0%9F%98%80")]
    public void UriEncode_KeepsOnlyUnreservedCharacters(string value, string expected) =>
        Assert.Equal(expected, S3RawClient.UriEncode(value));

    [Fact]
    public void Parse_UrlEncodedPageWithPrefixes_DecodesKeysAndKeepsOrder()
    {
        const string xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>b</Name><Prefix>p%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>%2F</Delimiter>
              <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextContinuationToken>tok+en/=</NextContinuationToken>
              <Contents><Key>p/a+b%2Bc%20%C3%A9</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass><Owner><ID>x</ID></Owner></Contents>
              <CommonPrefixes><Prefix>p/d%2F%2F</Prefix></CommonPrefixes>
              <Contents><Key>p/e</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>"def-2"</ETag><Size>0</Size></Contents>
            </ListBucketResult>
            """;
        var bytes = Encoding.UTF8.GetBytes(xml);
        var page = S3RawClient.Parse(bytes, bytes.Length);
        Assert.Equal(["p/a b+c é", "p/e"], page.Entries.Select(e => e.Key));
        Assert.Equal(["p/d//"], page.CommonPrefixes);
        Assert.True(page.IsTruncated);
        Assert.Equal("tok+en/=", page.NextContinuationToken);
        var first = page.Entries[0];
        Assert.Equal((12L, "\"abc\"", new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero)), (first.Size, first.ETag, first.LastModified));
        Assert.Equal("\"def-2\"", page.Entries[1].ETag);
    }

    [Fact]
    public void Parse_PlainPage_LeavesPercentAndPlusInKeys()
    {
        const string xml = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a%20b+c</Key><Size>1</Size></Contents></ListBucketResult>";
        var bytes = Encoding.UTF8.GetBytes(xml);
        var page = S3RawClient.Parse(bytes, bytes.Length);
        Assert.Equal("a%20b+c", Assert.Single(page.Entries).Key);
        Assert.False(page.IsTruncated);
        Assert.Null(page.NextContinuationToken);
    }

    [Theory]
    [InlineData("<Error><Code>NoSuchBucket</Code></Error>")]
    [InlineData("<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>")]
    [InlineData("<ListBucketResult><Contents>")]
    public void Parse_WrongDocument_ThrowsOriginProtocolException(string xml)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        Assert.Throws<OriginProtocolException>(() => S3RawClient.Parse(bytes, bytes.Length));
    }
}

public sealed class S3ListXmlTests
{
    [Theory]
    [InlineData("""<?xml version="1.0"?><ListBucketResult xmlns="x"><IsTruncated>true</IsTruncated><Contents><Key>a&amp;b&#233;&#x1F600;</Key><Size>5</Size><ETag>&quot;e&quot;</ETag><LastModified>2024-01-02T03:04:05Z</LastModified></Contents><!-- c --><Contents><Key><![CDATA[x<y]]></Key><Size>6</Size><ETag>&quot;e&quot;</ETag><LastModified>2024-01-02T03:04:05Z</LastModified></Contents><NextContinuationToken>t</NextContinuationToken></ListBucketResult>""")]
    [InlineData("""
        <ListBucketResult>
          <Contents>
            <Key>a&amp;b&#233;&#x1F600;</Key>
            <Size> 5 </Size>
            <ETag>&quot;e&quot;</ETag>
            <LastModified>2024-01-02T03:04:05.000Z</LastModified>
          </Contents>
          <Contents><Key>x&lt;y</Key><Size>6</Size><ETag>"e"</ETag><LastModified>2024-01-02T03:04:05Z</LastModified><Owner><ID>1</ID></Owner></Contents>
          <IsTruncated>true</IsTruncated>
          <NextContinuationToken>t</NextContinuationToken>
        </ListBucketResult>
        """)]
    public void TryParse_EntitiesCdataCommentsAndWhitespace_ReadLikeXmlReader(string xml)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        Assert.True(S3ListXml.TryParse(bytes, out var fast));
        var reference = S3RawClient.ParseWithXmlReader(bytes, bytes.Length);
        Assert.Equal(["a&bé😀", "x<y"], fast.Entries.Select(e => e.Key));
        Assert.Equal(reference.Entries, fast.Entries);
        Assert.Equal((reference.IsTruncated, reference.NextContinuationToken), (fast.IsTruncated, fast.NextContinuationToken));
        Assert.Equal("\"e\"", fast.Entries[1].ETag);
    }

    [Theory]
    [InlineData("<!DOCTYPE x><ListBucketResult></ListBucketResult>")]
    [InlineData("<Error><Code>x</Code></Error>")]
    [InlineData("<ListBucketResult><Contents><Key>a</Key></Contents>")]
    [InlineData("<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>")]
    [InlineData("<ListBucketResult><Contents><Key>a</Size></Contents></ListBucketResult>")]
    public void TryParse_UnusualOrMalformedDocument_LeavesItToXmlReader(string xml) =>
        Assert.False(S3ListXml.TryParse(Encoding.UTF8.GetBytes(xml), out _));

    [Fact]
    public void TryParse_SimulatorLikePageOf1000Keys_MatchesXmlReader()
    {
        var sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>");
        var random = new Random(1);
        for (int i = 0; i < 1000; i++)
        {
            string key = Uri.EscapeDataString($"dir/{i:D5} é+{random.Next()}").Replace("%2F", "/", StringComparison.Ordinal);
            sb.Append($"<Contents><Key>{key}</Key><LastModified>2024-01-0{1 + (i % 3)}T00:00:00.000Z</LastModified><ETag>&quot;{i % 7}&quot;</ETag><Size>{i * 31}</Size><StorageClass>STANDARD</StorageClass></Contents>");
        }
        sb.Append("<CommonPrefixes><Prefix>dir/sub%20x/</Prefix></CommonPrefixes></ListBucketResult>");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        Assert.True(S3ListXml.TryParse(bytes, out var fast));
        var reference = S3RawClient.ParseWithXmlReader(bytes, bytes.Length);
        Assert.Equal(1000, fast.Entries.Count);
        Assert.Equal(reference.Entries, fast.Entries);
        Assert.Equal(reference.CommonPrefixes, fast.CommonPrefixes);
        Assert.Equal("dir/sub x/", Assert.Single(fast.CommonPrefixes));
    }
}

/// <summary>
/// The store's own SigV4 signing against the AWS SDK's, on the same UploadPart request: s3rver does not check
/// signatures, so this is what shows that a real S3 or OSS endpoint will accept the requests the store signs itself.
/// </summary>
public sealed class S3RawClientSigningTests
{
    [Theory]
    [InlineData("dir/model.bin", "upload-1")]
    [InlineData("dir/a b+c$=é😀.bin", "up/1+x=")]
    [InlineData("a//b/(1)!*'~.bin", "2~Zx")]
    public async Task UploadPart_SignedLikeTheSdk(string key, string uploadId)
    {
        var capture = new CapturingHandler();
        var config = new AmazonS3Config
        {
            ServiceURL = "http://127.0.0.1:9",
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            UseHttp = true,
            MaxErrorRetry = 0,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            HttpClientFactory = new CapturingFactory(capture),
        };
        using var sdk = new AmazonS3Client(new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), config);
        byte[] body = Encoding.UTF8.GetBytes("the bytes of one part");
        await sdk.UploadPartAsync(new UploadPartRequest
        {
            BucketName = "bkt", Key = key, UploadId = uploadId, PartNumber = 3,
            InputStream = new MemoryStream(body), PartSize = body.Length, UseChunkEncoding = false,
        });
        var request = capture.Request!;

        // The path and query the SDK sent are the ones the store would send.
        // As sent: the SDK builds its URIs without canonicalization, so the original string is what went on the wire.
        string sent = request.RequestUri!.OriginalString;
        string pathAndQuery = sent[(sent.IndexOf('/', sent.IndexOf("//", StringComparison.Ordinal) + 2))..];
        string path = pathAndQuery.Split('?')[0];
        Assert.Equal("/bkt/" + S3RawClient.EncodePath(key), path);
        // The SDK may leave '/', '+' or '=' of a value unencoded in the URL; what is signed is the canonical form.
        var parameters = pathAndQuery.Split('?')[1].Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
        Assert.Equal(uploadId, parameters["uploadId"]);
        Assert.Equal("3", parameters["partNumber"]);
        string query = $"partNumber=3&uploadId={S3RawClient.UriEncode(uploadId)}";

        string sdkAuthorization = capture.Authorization!;
        string signedHeaders = sdkAuthorization.Split("SignedHeaders=")[1].Split(',')[0];
        var headers = signedHeaders.Split(';').Select(name => (name, capture.Headers[name].Trim())).ToList();
        string payloadHash = capture.Headers["x-amz-content-sha256"];
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), payloadHash);

        string ours = S3RawClient.Authorization("PUT", path, query, headers, payloadHash, capture.Headers["x-amz-date"], "us-east-1",
            "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        Assert.Equal(sdkAuthorization, ours);
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public HttpRequestMessage? Request { get; private set; }
        public string? Authorization { get; private set; }
        public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            Headers["host"] = request.Headers.Host ?? request.RequestUri!.Authority;
            foreach (var h in request.Headers)
                Headers[h.Key.ToLowerInvariant()] = string.Join(",", h.Value);
            if (request.Content is not null)
                foreach (var h in request.Content.Headers)
                    Headers[h.Key.ToLowerInvariant()] = string.Join(",", h.Value);
            Authorization = Headers["authorization"];
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0123456789abcdef0123456789abcdef\"");
            return Task.FromResult(response);
        }
    }

    private sealed class CapturingFactory(CapturingHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);
    }
}
