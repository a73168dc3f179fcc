using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;
using static OssOrleans.UnitTests.Gateway.GatewayRequests;

namespace OssOrleans.UnitTests.Gateway;

public class S3RequestBodyTests
{
    private static readonly byte[] Data = Encoding.UTF8.GetBytes("Welcome to Amazon S3.");

    private static SigV4Authentication Signed(PayloadMode mode, byte[]? sha256 = null) =>
        new("AK", "us-east-1", AwsExamples.AmzDate, AwsExamples.Time, false, mode, sha256,
            SigV4Signing.DeriveSigningKey("secret", "20130524", "us-east-1"), new string('0', 64), ["host"]);

    private static S3BodyStream Open(byte[] body, IHeaderDictionary headers, SigV4Authentication? auth, long? contentLength = -1)
    {
        Assert.True(S3RequestBody.TryOpen(new MemoryStream(body), headers, contentLength == -1 ? body.Length : contentLength, auth, out var stream, out var error),
            $"refused: {error}");
        return stream;
    }

    private static S3Error Refused(IHeaderDictionary headers, SigV4Authentication? auth, long? contentLength = 10)
    {
        Assert.False(S3RequestBody.TryOpen(new MemoryStream(), headers, contentLength, auth, out _, out var error));
        return error;
    }

    [Fact]
    public async Task TryOpen_SignedSha256Body_ReadsAndVerifies()
    {
        using var stream = Open(Data, Headers(), Signed(PayloadMode.Sha256, SHA256.HashData(Data)));

        Assert.IsType<VerifyingBodyStream>(stream);
        Assert.Equal(Data, await AwsChunkedStreamTests.ReadAllAsync(stream, 4));
        Assert.True(stream.IsComplete);
    }

    [Fact]
    public async Task ReadAsync_BodyOtherThanItsSignedSha256_IsXAmzContentSHA256Mismatch()
    {
        byte[] other = (byte[])Data.Clone();
        other[^1] ^= 1;
        using var stream = Open(other, Headers(), Signed(PayloadMode.Sha256, SHA256.HashData(Data)));

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => AwsChunkedStreamTests.ReadAllAsync(stream, 100));

        Assert.Equal("XAmzContentSHA256Mismatch", e.Error.Code);
        Assert.Equal(400, e.Error.StatusCode);
    }

    [Fact]
    public async Task ReadAsync_BodyShorterThanContentLength_IsIncompleteBody()
    {
        using var stream = Open(Data, Headers(), Signed(PayloadMode.Unsigned), contentLength: Data.Length + 5);

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => AwsChunkedStreamTests.ReadAllAsync(stream, 100));

        Assert.Equal("IncompleteBody", e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_ContentLengthShorterThanTheBody_StopsThere()
    {
        using var stream = Open(Data, Headers(), Signed(PayloadMode.Unsigned), contentLength: 7);

        Assert.Equal(Data[..7], await AwsChunkedStreamTests.ReadAllAsync(stream, 100));
    }

    [Fact]
    public async Task ReadAsync_ContentMd5_IsVerified()
    {
        string md5 = Convert.ToBase64String(MD5.HashData(Data));
        using var good = Open(Data, Headers(("Content-MD5", md5)), null);
        using var bad = Open(Data, Headers(("Content-MD5", Convert.ToBase64String(new byte[16]))), null);

        Assert.Equal(Data, await AwsChunkedStreamTests.ReadAllAsync(good, 100));
        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => AwsChunkedStreamTests.ReadAllAsync(bad, 100));
        Assert.Equal("BadDigest", e.Error.Code);
    }

    [Theory]
    [InlineData("not base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("")]
    public void TryOpen_MalformedContentMd5_IsInvalidDigest(string value) =>
        Assert.Equal("InvalidDigest", Refused(Headers(("Content-MD5", value)), null).Code);

    [Fact]
    public async Task ReadAsync_ChecksumHeader_IsVerifiedAndReported()
    {
        string crc = ChunkedBodyBuilder.Crc32Base64(Data);
        using var good = Open(Data, Headers(("x-amz-checksum-crc32", crc), ("x-amz-sdk-checksum-algorithm", "CRC32")), Signed(PayloadMode.Unsigned));
        using var bad = Open(Data, Headers(("x-amz-checksum-crc32", "AAAAAA==")), Signed(PayloadMode.Unsigned));

        Assert.Equal(Data, await AwsChunkedStreamTests.ReadAllAsync(good, 100));
        Assert.Equal(crc, good.ChecksumBase64);
        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => AwsChunkedStreamTests.ReadAllAsync(bad, 100));
        Assert.Equal("BadDigest", e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_AnonymousWithDeclaredSha256_StillChecksIt()
    {
        using var stream = Open(Data, Headers(("x-amz-content-sha256", Convert.ToHexStringLower(SHA256.HashData([1, 2, 3])))), null);

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => AwsChunkedStreamTests.ReadAllAsync(stream, 100));

        Assert.Equal("XAmzContentSHA256Mismatch", e.Error.Code);
    }

    [Fact]
    public async Task TryOpen_SignedChunksWithSignatureUnchecked_DecodesAndStillChecksTheTrailerChecksum()
    {
        // An anonymous gateway has no secret to check a signature against; a client with made-up keys signs anyway.
        var other = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSignedTrailer, new string('a', 64));
        var data = new byte[20_000];
        Random.Shared.NextBytes(data);
        string crc = ChunkedBodyBuilder.Crc32Base64(data);
        var headers = Headers(("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", data.Length.ToString()),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"), ("x-amz-trailer", "x-amz-checksum-crc32"));
        byte[] good = ChunkedBodyBuilder.Signed(data, 8192, other, ("x-amz-checksum-crc32", crc));
        byte[] badCrc = ChunkedBodyBuilder.Signed(data, 8192, other, ("x-amz-checksum-crc32", "AAAAAA=="));

        Assert.False(S3RequestBody.TryOpen(new MemoryStream(good), headers, good.Length, null, out _, out var refused));
        Assert.True(S3RequestBody.TryOpen(new MemoryStream(good), headers, good.Length, null, out var stream, out _, signatureUnchecked: true));
        Assert.True(S3RequestBody.TryOpen(new MemoryStream(badCrc), headers, badCrc.Length, null, out var corrupt, out _, signatureUnchecked: true));

        Assert.Equal("InvalidRequest", refused!.Code);
        Assert.Equal(data, await AwsChunkedStreamTests.ReadAllAsync(stream!, 5000));
        Assert.Equal("BadDigest", (await Assert.ThrowsAsync<S3ProtocolException>(() => AwsChunkedStreamTests.ReadAllAsync(corrupt!, 5000))).Error.Code);
        stream!.Dispose();
        corrupt!.Dispose();
    }

    [Fact]
    public async Task TryOpen_UnsignedTrailerRequest_DecodesAwsChunked()
    {
        string crc = ChunkedBodyBuilder.Crc32Base64(Data);
        byte[] body = ChunkedBodyBuilder.Unsigned(Data, 8192, ("x-amz-checksum-crc32", crc));
        var headers = Headers(("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", Data.Length.ToString()),
            ("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-sdk-checksum-algorithm", "CRC32"));

        using var stream = Open(body, headers, Signed(PayloadMode.StreamingUnsignedTrailer));

        Assert.IsType<AwsChunkedStream>(stream);
        Assert.Equal(Data.Length, stream.DecodedLength);
        Assert.Equal(Data, await AwsChunkedStreamTests.ReadAllAsync(stream, 7));
        Assert.Equal(crc, stream.ChecksumBase64);
    }

    public static TheoryData<string, (string, string)[], string?, string> RefusedHeaders => new()
    {
        { "two checksum headers", [("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-checksum-sha1", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")], "Unsigned", "InvalidRequest" },
        { "unknown checksum header", [("x-amz-checksum-md5", "AAAAAA==")], "Unsigned", "InvalidRequest" },
        { "checksum value of the wrong length", [("x-amz-checksum-crc32", "AAAAAAAA")], "Unsigned", "InvalidRequest" },
        { "sdk algorithm without checksum", [("x-amz-sdk-checksum-algorithm", "CRC32")], "Unsigned", "InvalidRequest" },
        { "sdk algorithm unknown", [("x-amz-sdk-checksum-algorithm", "MD5"), ("x-amz-checksum-crc32", "AAAAAA==")], "Unsigned", "InvalidRequest" },
        { "sdk algorithm other than sent", [("x-amz-sdk-checksum-algorithm", "CRC32C"), ("x-amz-checksum-crc32", "AAAAAA==")], "Unsigned", "InvalidRequest" },
        { "trailer without trailer mode", [("x-amz-trailer", "x-amz-checksum-crc32")], "Unsigned", "InvalidRequest" },
        { "trailer that is not a checksum", [("x-amz-trailer", "x-amz-meta-a"), ("x-amz-decoded-content-length", "1")], "StreamingUnsignedTrailer", "InvalidRequest" },
        { "two trailers", [("x-amz-trailer", "x-amz-checksum-crc32, x-amz-checksum-crc32c"), ("x-amz-decoded-content-length", "1")], "StreamingUnsignedTrailer", "InvalidRequest" },
        { "trailer and header checksum", [("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-decoded-content-length", "1")], "StreamingUnsignedTrailer", "InvalidRequest" },
        { "streaming without decoded length", [("Content-Encoding", "aws-chunked")], "StreamingSigned", "MissingContentLength" },
        { "streaming with a bad decoded length", [("x-amz-decoded-content-length", "-1")], "StreamingSigned", "InvalidArgument" },
        { "streaming with a huge decoded length", [("x-amz-decoded-content-length", "99999999999999999999")], "StreamingSigned", "InvalidArgument" },
        { "aws-chunked without streaming", [("Content-Encoding", "gzip, aws-chunked")], "Unsigned", "InvalidRequest" },
        { "anonymous signed streaming", [("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")], null, "InvalidRequest" },
        { "anonymous bad payload hash", [("x-amz-content-sha256", "nope")], null, "InvalidArgument" },
    };

    [Theory]
    [MemberData(nameof(RefusedHeaders))]
    public void TryOpen_InconsistentHeaders_AreRefusedBeforeReading(string what, (string, string)[] headers, string? mode, string code)
    {
        var error = Refused(Headers(headers), mode is { } m ? Signed(Enum.Parse<PayloadMode>(m)) : null);

        Assert.True(code == error.Code, $"{what}: {error}");
    }

    [Fact]
    public void TryOpen_PlainBodyWithoutContentLength_IsMissingContentLength() =>
        Assert.Equal("MissingContentLength", Refused(Headers(), Signed(PayloadMode.Unsigned), contentLength: null).Code);

    [Fact]
    public async Task CompleteAsync_EmptyBodyNeverRead_ChecksItsSha256()
    {
        using var stream = Open([], Headers(), Signed(PayloadMode.Sha256, SHA256.HashData([9])));

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => stream.CompleteAsync().AsTask());

        Assert.Equal("XAmzContentSHA256Mismatch", e.Error.Code);
    }

    [Fact]
    public async Task CompleteAsync_BytesLeftUnread_IsAMisuse()
    {
        using var stream = Open(Data, Headers(), Signed(PayloadMode.Unsigned));

        await Assert.ThrowsAsync<InvalidOperationException>(() => stream.CompleteAsync().AsTask());
    }

    [Theory]
    [InlineData("aws-chunked", null)]
    [InlineData("aws-chunked,gzip", "gzip")]
    [InlineData("gzip, AWS-Chunked", "gzip")]
    [InlineData("br", "br")]
    public void StoredContentEncoding_LeavesAwsChunkedOut(string header, string? stored) =>
        Assert.Equal(stored, S3RequestBody.StoredContentEncoding(Headers(("Content-Encoding", header))));
}
