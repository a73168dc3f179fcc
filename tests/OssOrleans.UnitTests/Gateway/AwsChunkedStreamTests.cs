using System.Text;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

public class AwsChunkedStreamTests
{
    // AWS, "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks": 65 KiB of
    // 'a' in a 64 KiB chunk and a 1 KiB chunk, with the documented seed and chunk signatures.
    private const string ExampleSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

    private static readonly byte[] ExampleData = Enumerable.Repeat((byte)'a', 66560).ToArray();

    private static byte[] ExampleBody() => Concat(
        "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n", ExampleData.AsSpan(0, 65536).ToArray(),
        "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n", ExampleData.AsSpan(0, 1024).ToArray(),
        "\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");

    // AWS, "Signature calculations for trailing headers (chunked uploads)": the same data with a CRC32C trailer.
    private const string TrailerExampleSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";

    private static byte[] TrailerExampleBody() => Concat(
        "10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n", ExampleData.AsSpan(0, 65536).ToArray(),
        "\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n", ExampleData.AsSpan(0, 1024).ToArray(),
        "\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
        + "x-amz-checksum-crc32c:sOO8/Q==\r\n"
        + "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n");

    private static AwsChunkedStream Example(Stream body) =>
        new(body, 66560, PayloadMode.StreamingSigned, ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSigned, ExampleSeed), null, BodyChecks.None());

    private static AwsChunkedStream TrailerExample(Stream body) =>
        new(body, 66560, PayloadMode.StreamingSignedTrailer, ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSignedTrailer, TrailerExampleSeed),
            "x-amz-checksum-crc32c", new BodyChecks(null, null, ChecksumAlgorithm.Crc32C, null));

    [Theory]
    [InlineData(int.MaxValue, 100_000)]
    [InlineData(1, 4096)]
    [InlineData(7, 1)]
    [InlineData(8193, 65535)]
    [InlineData(100_000, 3)]
    public async Task ReadAsync_AwsExample_DecodesToTheDocumentedBody(int innerReadSize, int readSize)
    {
        using var stream = Example(new TrickleStream(ExampleBody(), innerReadSize));

        byte[] decoded = await ReadAllAsync(stream, readSize);

        Assert.Equal(ExampleData, decoded);
        Assert.True(stream.IsComplete);
    }

    [Fact]
    public void Read_AwsExample_DecodesSynchronouslyToo()
    {
        using var stream = Example(new TrickleStream(ExampleBody(), 1000));

        var output = new MemoryStream();
        stream.CopyTo(output, 3000);

        Assert.Equal(ExampleData, output.ToArray());
        Assert.True(stream.IsComplete);
    }

    [Fact]
    public async Task ReadAsync_AwsTrailerExample_VerifiesChunksTrailerSignatureAndCrc32c()
    {
        using var stream = TrailerExample(new TrickleStream(TrailerExampleBody(), 777));

        Assert.Equal(ExampleData, await ReadAllAsync(stream, 10_000));
        Assert.True(stream.IsComplete);
        Assert.Equal(ChecksumAlgorithm.Crc32C, stream.ChecksumAlgorithm);
        Assert.Equal("sOO8/Q==", stream.ChecksumBase64);
    }

    [Fact]
    public async Task ReadAsync_ConsumerStoppingAtDecodedLength_HasHadEveryCheck()
    {
        using var stream = TrailerExample(new TrickleStream(TrailerExampleBody(), 500));
        byte[] buffer = new byte[66560];

        int total = 0;
        while (total < buffer.Length)
            total += await stream.ReadAsync(buffer.AsMemory(total));

        Assert.True(stream.IsComplete);
        Assert.Equal("sOO8/Q==", stream.ChecksumBase64);
    }

    [Theory]
    [InlineData(100, (byte)'b')]        // chunk data
    [InlineData(70_000, (byte)'b')]     // clamped into the second chunk's data
    [InlineData(30, (byte)'0')]         // first chunk signature
    [InlineData(5, (byte)'1')]          // the first header loses its ";"
    public async Task ReadAsync_OneByteChangedInTheAwsExample_IsRefused(int position, byte value)
    {
        byte[] body = ExampleBody();
        position = Math.Min(position, body.Length - 200);
        Assert.NotEqual(value, body[position]);
        body[position] = value;

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(Example(new MemoryStream(body)), 8192));

        Assert.Contains(e.Error.Code, (string[])["SignatureDoesNotMatch", "InvalidRequest", "IncompleteBody"]);
    }

    [Fact]
    public async Task ReadAsync_EveryOneByteChangeOfAFramedBody_IsRefused()
    {
        // A small signed body, every byte of it flipped in turn: no change may decode.
        var auth = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSigned, ExampleSeed);
        byte[] data = Encoding.ASCII.GetBytes("hello, chunks");
        byte[] body = ChunkedBodyBuilder.Signed(data, 64, auth);
        for (int i = 0; i < body.Length; i++)
        {
            byte[] changed = (byte[])body.Clone();
            changed[i] ^= 0x01;
            var stream = new AwsChunkedStream(new MemoryStream(changed), data.Length, PayloadMode.StreamingSigned, auth, null, BodyChecks.None());
            await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 5));
        }
    }

    [Fact]
    public async Task ReadAsync_TrailerExampleWithChangedChecksum_IsSignatureDoesNotMatch()
    {
        byte[] body = Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(TrailerExampleBody()).Replace("sOO8/Q==", "sOO8/A=="));

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(TrailerExample(new MemoryStream(body)), 8192));

        Assert.Equal("SignatureDoesNotMatch", e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_SignedTrailerWithoutTrailerSignature_IsMalformedTrailer()
    {
        string text = Encoding.Latin1.GetString(TrailerExampleBody());
        text = text[..text.IndexOf("x-amz-trailer-signature", StringComparison.Ordinal)] + "\r\n";

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(TrailerExample(new MemoryStream(Encoding.Latin1.GetBytes(text))), 8192));

        Assert.Equal("MalformedTrailerError", e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_EveryTruncationOfAFramedBody_IsIncompleteBody()
    {
        var auth = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSignedTrailer, ExampleSeed);
        byte[] data = Encoding.ASCII.GetBytes("a body that is cut short");
        byte[] body = ChunkedBodyBuilder.Signed(data, 1024, auth, ("x-amz-checksum-crc32", ChunkedBodyBuilder.Crc32Base64(data)));
        for (int length = 0; length < body.Length; length++)
        {
            var stream = new AwsChunkedStream(new MemoryStream(body, 0, length), data.Length, PayloadMode.StreamingSignedTrailer, auth,
                "x-amz-checksum-crc32", new BodyChecks(null, null, ChecksumAlgorithm.Crc32, null));
            var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 3));
            Assert.Equal("IncompleteBody", e.Error.Code);
        }
        var whole = new AwsChunkedStream(new MemoryStream(body), data.Length, PayloadMode.StreamingSignedTrailer, auth,
            "x-amz-checksum-crc32", new BodyChecks(null, null, ChecksumAlgorithm.Crc32, null));
        Assert.Equal(data, await ReadAllAsync(whole, 3));
    }

    // ---- unsigned chunks with a trailer (what SDKs send over TLS by default) ----

    private static AwsChunkedStream UnsignedCrc32(byte[] body, long decodedLength) =>
        new(new MemoryStream(body), decodedLength, PayloadMode.StreamingUnsignedTrailer, null, "x-amz-checksum-crc32",
            new BodyChecks(null, null, ChecksumAlgorithm.Crc32, null));

    [Fact]
    public async Task ReadAsync_UnsignedChunksWithCrc32Trailer_DecodesAndReportsTheChecksum()
    {
        byte[] data = RandomBytes(100_000, seed: 1);
        string crc = ChunkedBodyBuilder.Crc32Base64(data);

        using var stream = UnsignedCrc32(ChunkedBodyBuilder.Unsigned(data, 16_384, ("x-amz-checksum-crc32", crc)), data.Length);

        Assert.Equal(data, await ReadAllAsync(stream, 4096));
        Assert.Equal(crc, stream.ChecksumBase64);
    }

    [Fact]
    public async Task ReadAsync_WrongTrailerChecksum_IsBadDigest()
    {
        byte[] data = RandomBytes(20_000, seed: 2);

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() =>
            ReadAllAsync(UnsignedCrc32(ChunkedBodyBuilder.Unsigned(data, 10_000, ("x-amz-checksum-crc32", "AAAAAA==")), data.Length), 4096));

        Assert.Equal("BadDigest", e.Error.Code);
        Assert.Equal("The CRC32 you specified did not match the calculated checksum.", e.Error.Message);
    }

    [Theory]
    [InlineData("x-amz-checksum-crc32:not-base64\r\n", "InvalidRequest")]
    [InlineData("x-amz-checksum-crc32:AAAAAAAA\r\n", "InvalidRequest")]
    [InlineData("", "MalformedTrailerError")]
    [InlineData("x-amz-checksum-sha256:AAAAAA==\r\n", "MalformedTrailerError")]
    [InlineData("x-amz-meta-evil:1\r\n", "MalformedTrailerError")]
    [InlineData("x-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n", "MalformedTrailerError")]
    [InlineData("no colon here\r\n", "MalformedTrailerError")]
    [InlineData("x-amz-checksum-crc32:\u0001AAAAA==\r\n", "MalformedTrailerError")]
    [InlineData("x-amz-trailer-signature:" + ExampleSeed + "\r\n", "MalformedTrailerError")]
    public async Task ReadAsync_BadTrailer_IsRefusedWithItsCode(string trailerLines, string code)
    {
        byte[] data = Encoding.ASCII.GetBytes("data");
        byte[] body = Encoding.Latin1.GetBytes("4\r\ndata\r\n0\r\n" + trailerLines + "\r\n");

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(UnsignedCrc32(body, data.Length), 4096));

        Assert.Equal(code, e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_TooManyTrailerLines_IsMalformedTrailer()
    {
        string lines = string.Concat(Enumerable.Repeat("x-amz-meta-a:1\r\n", 20));
        var stream = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes("0\r\n" + lines + "\r\n")), 0, PayloadMode.StreamingUnsignedTrailer,
            null, null, BodyChecks.None());

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 10));

        Assert.Equal("MalformedTrailerError", e.Error.Code);
    }

    // ---- hostile framing ----

    [Theory]
    [InlineData("g\r\n", "InvalidRequest")]                               // not hex
    [InlineData("\r\n", "InvalidRequest")]                                // empty size
    [InlineData("10000000000000000\r\n", "InvalidRequest")]               // 17 digits
    [InlineData("FFFFFFFFFFFFFFFF\r\n", "InvalidRequest")]                // beyond a long
    [InlineData("7FFFFFFFFFFFFFFF\r\n", "IncompleteBody")]                // beyond the decoded length, refused before reading it
    [InlineData("5\r\nabcde\r\n", "IncompleteBody")]                      // more than decoded
    [InlineData("4\r\nabcdX\r\n0\r\n\r\n", "InvalidRequest")]            // data longer than its size
    [InlineData("4\nabcd\r\n0\r\n\r\n", "InvalidRequest")]               // LF without CR
    [InlineData("4\r\nabcd\n0\r\n\r\n", "InvalidRequest")]               // data end without CRLF
    [InlineData("4;chunk-signature=00\r\nabcd\r\n0\r\n\r\n", "InvalidRequest")] // an extension on an unsigned chunk
    [InlineData("4 \r\nabcd\r\n0\r\n\r\n", "InvalidRequest")]            // stray space
    [InlineData("-4\r\nabcd\r\n0\r\n\r\n", "InvalidRequest")]
    [InlineData("2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", "InvalidChunkSizeError")] // a small chunk that is not the last
    [InlineData("3\r\nabc\r\n0\r\n\r\n", "IncompleteBody")]               // fewer than decoded
    [InlineData("4\r\nabcd\r\n0\r\n\r\nextra", "InvalidRequest")]         // data after the end
    [InlineData("4\r\nabcd\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", "MalformedTrailerError")] // undeclared trailer
    [InlineData("4\r\nabcd\r\n0\r\n\r\r\n", "InvalidRequest")]
    public async Task ReadAsync_HostileFraming_IsRefusedWithItsCode(string body, string code)
    {
        var stream = new AwsChunkedStream(new MemoryStream(Encoding.Latin1.GetBytes(body)), 4, PayloadMode.StreamingUnsignedTrailer, null, null, BodyChecks.None());

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 2));

        Assert.Equal(code, e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_EndlessChunkSizeLine_FailsAfterABoundedRead()
    {
        var inner = new TrickleStream(Enumerable.Repeat((byte)'0', 1 << 20).ToArray());
        var stream = new AwsChunkedStream(inner, 10, PayloadMode.StreamingUnsignedTrailer, null, null, BodyChecks.None());

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 4096));

        Assert.Equal("InvalidRequest", e.Error.Code);
        Assert.True(inner.BytesRead <= AwsChunkedStream.BufferSize, $"read {inner.BytesRead} bytes of an endless line");
    }

    [Fact]
    public async Task ReadAsync_HugeChunk_PassesThroughWithoutBufferingIt()
    {
        // One 4 MiB chunk read 64 KiB at a time: the data goes from the inner stream to the caller's buffer directly.
        byte[] data = RandomBytes(4 << 20, seed: 3);
        var auth = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSigned, ExampleSeed);
        var inner = new TrickleStream(ChunkedBodyBuilder.Signed(data, data.Length, auth));
        using var stream = new AwsChunkedStream(inner, data.Length, PayloadMode.StreamingSigned, auth, null, BodyChecks.None());

        Assert.Equal(data, await ReadAllAsync(stream, 65536));
        Assert.True(inner.Reads < 100, $"{inner.Reads} reads of the inner stream");
    }

    [Fact]
    public async Task ReadAsync_AfterAFailure_ThrowsTheSameErrorAgain()
    {
        var stream = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes("zz\r\n")), 4, PayloadMode.StreamingUnsignedTrailer, null, null, BodyChecks.None());

        var first = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 10));
        var second = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 10));

        Assert.Equal(first.Error, second.Error);
    }

    [Fact]
    public async Task ReadAsync_SignedChunkWithoutSignature_IsInvalidRequest()
    {
        var auth = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSigned, ExampleSeed);
        var stream = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes("4\r\nabcd\r\n0\r\n\r\n")), 4, PayloadMode.StreamingSigned, auth, null, BodyChecks.None());

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 10));

        Assert.Equal("InvalidRequest", e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_ChunksSignedWithAnotherSeed_AreSignatureDoesNotMatch()
    {
        var signer = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSigned, TrailerExampleSeed);
        var verifier = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSigned, ExampleSeed);
        byte[] data = RandomBytes(10_000, seed: 4);
        var stream = new AwsChunkedStream(new MemoryStream(ChunkedBodyBuilder.Signed(data, 9000, signer)), data.Length, PayloadMode.StreamingSigned, verifier, null, BodyChecks.None());

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 100_000));

        Assert.Equal("SignatureDoesNotMatch", e.Error.Code);
        Assert.DoesNotContain(ExampleSeed, e.Message);
    }

    [Fact]
    public async Task ReadAsync_ReorderedChunks_AreSignatureDoesNotMatch()
    {
        var auth = ChunkedBodyBuilder.ExampleAuthentication(PayloadMode.StreamingSigned, ExampleSeed);
        byte[] a = Enumerable.Repeat((byte)'x', 8192).ToArray();
        byte[] b = Enumerable.Repeat((byte)'y', 8192).ToArray();
        string body = Encoding.Latin1.GetString(ChunkedBodyBuilder.Signed([.. a, .. b], 8192, auth));
        int second = body.IndexOf("\r\n2000;", StringComparison.Ordinal) + 2;
        int final = body.IndexOf("0;chunk", second + 10, StringComparison.Ordinal);
        string swapped = body[second..final] + body[..second] + body[final..];

        var stream = new AwsChunkedStream(new MemoryStream(Encoding.Latin1.GetBytes(swapped)), 16384, PayloadMode.StreamingSigned, auth, null, BodyChecks.None());
        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => ReadAllAsync(stream, 100_000));

        Assert.Equal("SignatureDoesNotMatch", e.Error.Code);
    }

    [Fact]
    public async Task ReadAsync_EmptyBody_DecodesToNothing()
    {
        var stream = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes("0\r\n\r\n")), 0, PayloadMode.StreamingUnsignedTrailer, null, null, BodyChecks.None());

        Assert.Empty(await ReadAllAsync(stream, 10));
        Assert.True(stream.IsComplete);
    }

    [Fact]
    public async Task CompleteAsync_EmptyBodyNeverRead_RunsTheChecks()
    {
        var crc = new BodyChecks(null, null, ChecksumAlgorithm.Crc32, null);
        var stream = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes("0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n")), 0,
            PayloadMode.StreamingUnsignedTrailer, null, "x-amz-checksum-crc32", crc);

        await stream.CompleteAsync();

        Assert.True(stream.IsComplete);
        Assert.Equal("AAAAAA==", stream.ChecksumBase64);
    }

    internal static async Task<byte[]> ReadAllAsync(Stream stream, int readSize)
    {
        var output = new MemoryStream();
        byte[] buffer = new byte[readSize];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
            output.Write(buffer, 0, n);
        return output.ToArray();
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Concat(params object[] parts)
    {
        var output = new MemoryStream();
        foreach (object part in parts)
            output.Write(part is string s ? Encoding.ASCII.GetBytes(s) : (byte[])part);
        return output.ToArray();
    }
}
