using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Storage;
using static OssOrleans.UnitTests.Gateway.GatewayRequests;

namespace OssOrleans.UnitTests.Gateway;

public class SigV4VerifierTests
{
    private static readonly SigV4Verifier Verifier = new(AwsExamples.Lookup);

    // ---- AWS's worked examples (S3 API reference, "Signature Calculations for the Authorization Header") ----

    private static IHeaderDictionary GetObjectExampleHeaders() => Headers(
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", AwsExamples.EmptySha256),
        ("x-amz-date", AwsExamples.AmzDate),
        ("Authorization", AwsExamples.Authorization("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")));

    [Fact]
    public void Verify_AwsExampleGetObjectWithRange_Authenticates()
    {
        var outcome = Verifier.Verify(Head("GET", "/test.txt", GetObjectExampleHeaders()), AwsExamples.Time);

        Assert.True(outcome.IsAuthenticated, outcome.ToString());
        var auth = outcome.Authentication;
        Assert.Equal(AwsExamples.AccessKeyId, auth.AccessKeyId);
        Assert.Equal("us-east-1", auth.Region);
        Assert.Equal("20130524/us-east-1/s3/aws4_request", auth.Scope);
        Assert.Equal(PayloadMode.Sha256, auth.PayloadMode);
        Assert.Equal(Convert.FromHexString(AwsExamples.EmptySha256), auth.PayloadSha256.ToArray());
        Assert.Equal("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", auth.SeedSignature);
        Assert.False(auth.IsPresigned);
        Assert.DoesNotContain("wJalr", auth.ToString());
    }

    [Theory]
    [InlineData("/test%24file.text")]
    [InlineData("/test$file.text")]
    [InlineData("/test%24file%2etext")]
    public void Verify_AwsExamplePutObject_AuthenticatesWhateverTheClientEscaped(string rawPath)
    {
        var headers = Headers(
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", AwsExamples.AmzDate),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            ("Authorization", AwsExamples.Authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")));

        var outcome = Verifier.Verify(Head("PUT", rawPath, headers), AwsExamples.Time);

        Assert.True(outcome.IsAuthenticated, outcome.ToString());
    }

    [Fact]
    public void Verify_AwsExampleGetBucketLifecycle_Authenticates()
    {
        var headers = Headers(
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", AwsExamples.AmzDate),
            ("x-amz-content-sha256", AwsExamples.EmptySha256),
            ("Authorization", AwsExamples.Authorization("host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")));

        Assert.True(Verifier.Verify(Head("GET", "/?lifecycle", headers), AwsExamples.Time).IsAuthenticated);
    }

    [Theory]
    [InlineData("/?max-keys=2&prefix=J")]
    [InlineData("/?prefix=J&max-keys=2")]
    [InlineData("/?prefix=%4A&max-keys=2")]
    public void Verify_AwsExampleListObjects_AuthenticatesInAnyParameterOrder(string rawTarget)
    {
        var headers = Headers(
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", AwsExamples.AmzDate),
            ("x-amz-content-sha256", AwsExamples.EmptySha256),
            ("Authorization", AwsExamples.Authorization("host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")));

        Assert.True(Verifier.Verify(Head("GET", rawTarget, headers), AwsExamples.Time).IsAuthenticated);
    }

    // AWS, "Authenticating Requests: Using Query Parameters", the GET object example.
    private const string PresignedExample = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    [Fact]
    public void Verify_AwsExamplePresignedUrl_AuthenticatesUntilItExpires()
    {
        var head = Head("GET", PresignedExample, ("Host", "examplebucket.s3.amazonaws.com"));

        var atStart = Verifier.Verify(head, AwsExamples.Time);
        var atEnd = Verifier.Verify(head, AwsExamples.Time.AddSeconds(86400));
        var after = Verifier.Verify(head, AwsExamples.Time.AddSeconds(86401));

        Assert.True(atStart.IsAuthenticated, atStart.ToString());
        Assert.True(atStart.Authentication.IsPresigned);
        Assert.Equal(PayloadMode.Unsigned, atStart.Authentication.PayloadMode);
        Assert.True(atEnd.IsAuthenticated);
        AssertRejected(after, "AccessDenied", 403);
        Assert.Equal("Request has expired", after.Error!.Message);
    }

    [Fact]
    public void Verify_PresignedUrlBeforeItsDate_IsNotYetValidBeyondTheSkew()
    {
        var head = Head("GET", PresignedExample, ("Host", "examplebucket.s3.amazonaws.com"));

        Assert.True(Verifier.Verify(head, AwsExamples.Time.AddMinutes(-14)).IsAuthenticated);
        AssertRejected(Verifier.Verify(head, AwsExamples.Time.AddMinutes(-16)), "AccessDenied", 403);
    }

    [Fact]
    public void Verify_AwsExampleChunkedUploadSeed_AuthenticatesAsSignedStreaming()
    {
        var outcome = Verifier.Verify(ChunkedExampleHead(), AwsExamples.Time);

        Assert.True(outcome.IsAuthenticated, outcome.ToString());
        Assert.Equal(PayloadMode.StreamingSigned, outcome.Authentication.PayloadMode);
        Assert.Equal("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", outcome.Authentication.SeedSignature);
    }

    internal static S3RequestHead ChunkedExampleHead() => Head("PUT", "/examplebucket/chunkObject.txt",
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", AwsExamples.AmzDate),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Authorization", AwsExamples.Authorization(
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"));

    // ---- anything changed is refused ----

    public static TheoryData<string, string, string> OneChangeToTheGetExample => new()
    {
        { "path", "Host", "examplebucket.s3.amazonaws.com" },
        { "range", "Range", "bytes=0-8" },
        { "host", "Host", "examplebucket.s3.amazonaws.co" },
        { "date", "x-amz-date", "20130524T000001Z" },
        { "payload", "x-amz-content-sha256", "f3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "signature", "Authorization", AwsExamples.Authorization("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb40") },
        { "method", "Host", "examplebucket.s3.amazonaws.com" },
    };

    [Theory]
    [MemberData(nameof(OneChangeToTheGetExample))]
    public void Verify_OneChangeToASignedPart_IsSignatureDoesNotMatch(string what, string header, string value)
    {
        var headers = GetObjectExampleHeaders();
        headers[header] = value;
        string method = what == "method" ? "HEAD" : "GET";
        string path = what == "path" ? "/test.tx" : "/test.txt";

        var outcome = Verifier.Verify(Head(method, path, headers), AwsExamples.Time);

        AssertRejected(outcome, "SignatureDoesNotMatch", 403);
    }

    [Fact]
    public void Verify_SignatureMismatch_NamesNeitherSecretNorExpectedSignature()
    {
        var headers = GetObjectExampleHeaders();
        headers["Range"] = "bytes=0-8";

        var error = Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time).Error!;

        // The signature the verifier computed for this changed request is what must not leak.
        string expected = OssOrleans.Storage.S3RawClient.Authorization("GET", "/test.txt", "",
            [("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-8"), ("x-amz-content-sha256", AwsExamples.EmptySha256), ("x-amz-date", AwsExamples.AmzDate)],
            AwsExamples.EmptySha256, AwsExamples.AmzDate, "us-east-1", AwsExamples.AccessKeyId, AwsExamples.Secret).Split("Signature=")[1];
        string everything = error.Message + string.Join("\n", error.Details.Select(d => d.Key + "=" + d.Value));
        Assert.DoesNotContain(expected, everything);
        Assert.DoesNotContain(AwsExamples.Secret, everything);
        Assert.Contains(error.Details, d => d.Key == "CanonicalRequest" && d.Value.Contains("range:bytes=0-8"));
    }

    [Fact]
    public void Verify_UnknownAccessKey_IsInvalidAccessKeyId()
    {
        var verifier = new SigV4Verifier(_ => null);

        AssertRejected(verifier.Verify(Head("GET", "/test.txt", GetObjectExampleHeaders()), AwsExamples.Time), "InvalidAccessKeyId", 403);
    }

    [Fact]
    public void Verify_NoSignatureAnywhere_IsAnonymous()
    {
        var outcome = Verifier.Verify(Head("GET", "/bucket/key?list-type=2", ("Host", "localhost")), AwsExamples.Time);

        Assert.True(outcome.IsAnonymous);
        Assert.Null(outcome.Error);
        Assert.Null(outcome.Authentication);
    }

    // ---- time ----

    [Theory]
    [InlineData(-16, false)]
    [InlineData(-14, true)]
    [InlineData(14, true)]
    [InlineData(16, false)]
    public void Verify_HeaderSignedRequest_AllowsFifteenMinutesOfSkew(int minutes, bool accepted)
    {
        var outcome = Verifier.Verify(Head("GET", "/test.txt", GetObjectExampleHeaders()), AwsExamples.Time.AddMinutes(minutes));

        if (accepted)
            Assert.True(outcome.IsAuthenticated);
        else
            AssertRejected(outcome, "RequestTimeTooSkewed", 403);
    }

    [Fact]
    public void Verify_ConfiguredSkew_IsTheLimit()
    {
        var strict = new SigV4Verifier(AwsExamples.Lookup, TimeSpan.FromMinutes(1));

        AssertRejected(strict.Verify(Head("GET", "/test.txt", GetObjectExampleHeaders()), AwsExamples.Time.AddMinutes(2)), "RequestTimeTooSkewed", 403);
        Assert.True(strict.Verify(Head("GET", "/test.txt", GetObjectExampleHeaders()), AwsExamples.Time.AddSeconds(59)).IsAuthenticated);
    }

    [Theory]
    [InlineData("x-amz-date", "2013-05-24T00:00:00Z")]
    [InlineData("x-amz-date", "20130524T000000")]
    [InlineData("x-amz-date", "")]
    public void Verify_UnreadableDate_IsAccessDenied(string header, string value)
    {
        var headers = GetObjectExampleHeaders();
        headers[header] = value;

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "AccessDenied", 403);
    }

    [Fact]
    public void Verify_NoDateAtAll_IsAccessDenied()
    {
        var headers = GetObjectExampleHeaders();
        headers.Remove("x-amz-date");

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "AccessDenied", 403);
    }

    [Fact]
    public void Verify_CredentialDateOtherThanRequestDate_IsAuthorizationHeaderMalformed()
    {
        var headers = GetObjectExampleHeaders();
        headers.Authorization = headers.Authorization.ToString().Replace("/20130524/", "/20130525/");

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "AuthorizationHeaderMalformed", 400);
    }

    // ---- malformed authorization ----

    [Theory]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_requests,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013052/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20131324/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524//s3/aws4_request,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIA IOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=abc")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + Sig64 + "0")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=zz" + Sig62)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=Host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;;range,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=range,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,Credential=x,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,Extra=1,SignedHeaders=host,Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request SignedHeaders=host Signature=" + Sig64)]
    [InlineData("AWS4-HMAC-SHA256 ")]
    [InlineData("AWS4-HMAC-SHA256 ,,,")]
    public void Verify_MalformedAuthorizationHeader_IsAuthorizationHeaderMalformed(string authorization)
    {
        var headers = GetObjectExampleHeaders();
        headers.Authorization = authorization;

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "AuthorizationHeaderMalformed", 400);
    }

    private const string Sig64 = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    private const string Sig62 = "e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

    [Theory]
    [InlineData("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")]
    [InlineData("AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request,SignedHeaders=host,Signature=00")]
    [InlineData("Bearer abc")]
    [InlineData("AWS4-HMAC-SHA256")]
    public void Verify_OtherAuthorizationSchemes_AreNotSupported(string authorization)
    {
        var headers = GetObjectExampleHeaders();
        headers.Authorization = authorization;

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "InvalidRequest", 400);
    }

    [Fact]
    public void Verify_OverlongAuthorizationHeader_IsRefusedWithoutParsing()
    {
        var headers = GetObjectExampleHeaders();
        headers.Authorization = "AWS4-HMAC-SHA256 Credential=" + new string('A', 100_000);

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "AuthorizationHeaderMalformed", 400);
    }

    [Fact]
    public void Verify_TwoAuthorizationHeaders_AreMalformed()
    {
        var headers = GetObjectExampleHeaders();
        headers.Append("Authorization", headers.Authorization.ToString());

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "AuthorizationHeaderMalformed", 400);
    }

    [Fact]
    public void Verify_HeaderAndQuerySignatures_AreRefusedTogether()
    {
        var head = Head("GET", PresignedExample, GetObjectExampleHeaders());

        AssertRejected(Verifier.Verify(head, AwsExamples.Time), "InvalidArgument", 400);
    }

    [Fact]
    public void Verify_SignatureVersion2Query_IsNotSupported()
    {
        var head = Head("GET", "/test.txt?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D", ("Host", "h"));

        AssertRejected(Verifier.Verify(head, AwsExamples.Time), "InvalidRequest", 400);
    }

    // ---- what must be signed, and what is refused ----

    [Fact]
    public void Verify_UnsignedAmzHeader_IsAccessDeniedNamingTheHeader()
    {
        var headers = GetObjectExampleHeaders();
        headers["X-Amz-Meta-Color"] = "red";

        var outcome = Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time);

        AssertRejected(outcome, "AccessDenied", 403);
        Assert.Contains(outcome.Error!.Details, d => d.Key == "HeadersNotSigned" && d.Value == "x-amz-meta-color");
    }

    [Fact]
    public void Verify_UnsignedAmzHeaderOnPresignedUrl_IsAccessDenied()
    {
        var head = Head("GET", PresignedExample, ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-copy-source", "other/key"));

        AssertRejected(Verifier.Verify(head, AwsExamples.Time), "AccessDenied", 403);
    }

    [Fact]
    public void Verify_HostNotSigned_IsRefused()
    {
        var head = Head("GET", PresignedExample.Replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=range"), ("Host", "h"), ("Range", "bytes=0-1"));

        AssertRejected(Verifier.Verify(head, AwsExamples.Time), "AuthorizationQueryParametersError", 400);
    }

    [Fact]
    public void Verify_SignedHeaderMissingFromRequest_IsSignatureDoesNotMatch()
    {
        var headers = GetObjectExampleHeaders();
        headers.Remove("Range");

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "SignatureDoesNotMatch", 403);
    }

    [Fact]
    public void Verify_SessionToken_IsInvalidToken()
    {
        var headers = GetObjectExampleHeaders();
        headers["x-amz-security-token"] = "FwoGZXIvYXdzE";
        headers.Authorization = AwsExamples.Authorization("host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token", Sig64);

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "InvalidToken", 400);
        AssertRejected(Verifier.Verify(Head("GET", PresignedExample + "&X-Amz-Security-Token=abc", ("Host", "h")), AwsExamples.Time), "InvalidToken", 400);
    }

    [Fact]
    public void Verify_NoContentSha256Header_IsMissingSecurityHeader()
    {
        var headers = GetObjectExampleHeaders();
        headers.Remove("x-amz-content-sha256");

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "MissingSecurityHeader", 400);
    }

    [Theory]
    [InlineData("UNSIGNED")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
    [InlineData("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")]
    [InlineData("streaming-aws4-hmac-sha256-payload")]
    public void Verify_UnknownContentSha256Value_IsInvalidArgument(string value)
    {
        var headers = GetObjectExampleHeaders();
        headers["x-amz-content-sha256"] = value;

        AssertRejected(Verifier.Verify(Head("GET", "/test.txt", headers), AwsExamples.Time), "InvalidArgument", 400);
    }

    [Theory]
    [InlineData("UNSIGNED-PAYLOAD", "Unsigned")]
    [InlineData("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "StreamingSigned")]
    [InlineData("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "StreamingSignedTrailer")]
    [InlineData("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "StreamingUnsignedTrailer")]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "Sha256")]
    public void Verify_EachPayloadMode_IsReported(string payloadHash, string mode)
    {
        var head = SignedWithStorageSigner("PUT", "/bucket/key", "", [("x-amz-content-sha256", payloadHash)], payloadHash);

        var outcome = Verifier.Verify(head, AwsExamples.Time);

        Assert.True(outcome.IsAuthenticated, outcome.ToString());
        Assert.Equal(Enum.Parse<PayloadMode>(mode), outcome.Authentication.PayloadMode);
    }

    // ---- presigned parameters ----

    [Theory]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=604801")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=99999999999999999999")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=-1")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=0")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=1e5")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=86400&X-Amz-Expires=86400")]
    [InlineData("X-Amz-Expires=86400&", "")]
    [InlineData("X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130524")]
    [InlineData("X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130525T000000Z")]
    [InlineData("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1")]
    [InlineData("X-Amz-Algorithm=AWS4-HMAC-SHA256&", "")]
    [InlineData("%2Fs3%2F", "%2Fsqs%2F")]
    [InlineData("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=HOST")]
    [InlineData("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", "X-Amz-Signature=aeeed9bb")]
    public void Verify_BadPresignedParameter_IsAuthorizationQueryParametersError(string from, string to)
    {
        var head = Head("GET", PresignedExample.Replace(from, to), ("Host", "examplebucket.s3.amazonaws.com"));

        AssertRejected(Verifier.Verify(head, AwsExamples.Time), "AuthorizationQueryParametersError", 400);
    }

    [Fact]
    public void Verify_PresignedUrlWithAnAddedParameter_IsSignatureDoesNotMatch()
    {
        var head = Head("GET", PresignedExample + "&response-content-type=text%2Fhtml", ("Host", "examplebucket.s3.amazonaws.com"));

        AssertRejected(Verifier.Verify(head, AwsExamples.Time), "SignatureDoesNotMatch", 403);
    }

    [Fact]
    public void Verify_PresignedMaximumExpiry_IsAccepted()
    {
        // Same signature arithmetic as the example with a week's expiry, signed by the repository's own signer.
        string query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host";
        string signature = PresignWithStorageSigner("GET", "/test.txt", query, "examplebucket.s3.amazonaws.com");
        var head = Head("GET", $"/test.txt?{query}&X-Amz-Signature={signature}", ("Host", "examplebucket.s3.amazonaws.com"));

        Assert.True(Verifier.Verify(head, AwsExamples.Time.AddSeconds(604800)).IsAuthenticated);
        AssertRejected(Verifier.Verify(head, AwsExamples.Time.AddSeconds(604801)), "AccessDenied", 403);
    }

    // ---- canonicalization, against the repository's own (outgoing) signer ----

    [Theory]
    [InlineData("plain/key.txt")]
    [InlineData("a b+c=d&e?f#g")]
    [InlineData("dir//double/./dot/../x")]
    [InlineData("ünïcødé/日本語/🙂")]
    [InlineData("~tilde_-.!*'()$,;:@")]
    [InlineData("%41 percent")]
    public void Verify_KeySignedByStorageSigner_Authenticates(string key)
    {
        string rawPath = "/bucket/" + S3RawClient.EncodePath(key);

        var outcome = Verifier.Verify(SignedWithStorageSigner("GET", rawPath, "", [], AwsExamples.EmptySha256), AwsExamples.Time);

        Assert.True(outcome.IsAuthenticated, outcome.ToString());
    }

    [Fact]
    public void Verify_PathWithLowerCaseEscapes_CanonicalizesToUpperCase()
    {
        var signed = SignedWithStorageSigner("GET", "/bucket/a%2Ab", "", [], AwsExamples.EmptySha256);
        var sent = Head("GET", "/bucket/a%2ab", signed.Headers);

        Assert.True(Verifier.Verify(sent, AwsExamples.Time).IsAuthenticated);
    }

    [Fact]
    public void Verify_EncodedSlashInPath_StaysEncodedInTheCanonicalPath()
    {
        // A client that sent %2F signed %2F; a literal '/' is a different canonical path.
        var signed = SignedWithStorageSigner("GET", "/bucket/a%2Fb", "", [], AwsExamples.EmptySha256);

        Assert.True(Verifier.Verify(signed, AwsExamples.Time).IsAuthenticated);
        AssertRejected(Verifier.Verify(Head("GET", "/bucket/a/b", signed.Headers), AwsExamples.Time), "SignatureDoesNotMatch", 403);
    }

    [Theory]
    [InlineData("list-type=2&prefix=photos%2F2024%2F&delimiter=%2F")]
    [InlineData("prefix=a%20b&list-type=2")]
    [InlineData("prefix=a+b&list-type=2")]
    [InlineData("prefix=%E6%97%A5&list-type=2")]
    [InlineData("uploads")]
    [InlineData("uploads=")]
    [InlineData("partNumber=3&uploadId=abc%2Bdef%3D%3D")]
    [InlineData("b=2&a=1&b=1")]
    [InlineData("x-id=GetObject&&")]
    public void Verify_QuerySignedByStorageSigner_Authenticates(string rawQuery)
    {
        Assert.True(S3Query.TryParse(rawQuery, out var query, out _));
        var sorted = query.Parameters.Select(p => (Name: S3RawClient.UriEncode(p.Key), Value: S3RawClient.UriEncode(p.Value)))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal);
        string canonicalQuery = string.Join('&', sorted.Select(p => p.Name + "=" + p.Value));

        var head = SignedWithStorageSigner("GET", "/bucket", rawQuery, [], AwsExamples.EmptySha256, canonicalQuery);

        Assert.True(Verifier.Verify(head, AwsExamples.Time).IsAuthenticated);
    }

    [Fact]
    public void Verify_HeaderValuesWithRunsOfSpacesAndSeveralLines_AreCanonicalized()
    {
        // Signed over the canonical value; sent with the spacing and the split a client or proxy may produce.
        var signed = SignedWithStorageSigner("PUT", "/bucket/key", "", [("x-amz-meta-note", "a b c,d")], AwsExamples.EmptySha256);
        var headers = Headers(signed.Headers.Select(h => (h.Key, h.Value.ToString())).Where(h => h.Key != "x-amz-meta-note").ToArray());
        headers.Append("x-amz-meta-note", "  a   b \t c ");
        headers.Append("x-amz-meta-note", "d  ");

        Assert.True(Verifier.Verify(Head("PUT", "/bucket/key", headers), AwsExamples.Time).IsAuthenticated);
    }

    [Fact]
    public void Verify_MalformedPercentEscapeInPath_IsInvalidUri()
    {
        var signed = SignedWithStorageSigner("GET", "/bucket/key", "", [], AwsExamples.EmptySha256);

        AssertRejected(Verifier.Verify(Head("GET", "/bucket/k%zzey", signed.Headers), AwsExamples.Time), "InvalidURI", 400);
    }

    // Signs with OssOrleans.Storage's S3RawClient (the repository's outgoing signer) over host, x-amz-content-sha256,
    // x-amz-date and any extra headers, and returns the request as a client would send it.
    private static S3RequestHead SignedWithStorageSigner(string method, string rawPath, string rawQuery, (string Name, string Value)[] extra, string payloadHash,
        string? canonicalQuery = null)
    {
        var signed = new List<(string Name, string Value)> { ("host", "gateway.test:8080"), ("x-amz-content-sha256", payloadHash), ("x-amz-date", AwsExamples.AmzDate) };
        signed.AddRange(extra.Where(e => e.Name != "x-amz-content-sha256"));
        signed.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        string authorization = S3RawClient.Authorization(method, rawPath, canonicalQuery ?? rawQuery, signed, payloadHash, AwsExamples.AmzDate, "us-east-1",
            AwsExamples.AccessKeyId, AwsExamples.Secret);
        var headers = Headers([.. signed.Select(h => (h.Name, h.Value)), ("Authorization", authorization)]);
        return Head(method, rawQuery.Length == 0 ? rawPath : rawPath + "?" + rawQuery, headers);
    }

    private static string PresignWithStorageSigner(string method, string rawPath, string canonicalQuery, string host)
    {
        string authorization = S3RawClient.Authorization(method, rawPath, canonicalQuery, [("host", host)], "UNSIGNED-PAYLOAD", AwsExamples.AmzDate,
            "us-east-1", AwsExamples.AccessKeyId, AwsExamples.Secret);
        return authorization.Split("Signature=")[1];
    }

    internal static void AssertRejected(SigV4Outcome outcome, string code, int status)
    {
        Assert.True(outcome.IsRejected, $"expected {code}, got {outcome}");
        Assert.Equal(code, outcome.Error.Code);
        Assert.Equal(status, outcome.Error.StatusCode);
    }
}
