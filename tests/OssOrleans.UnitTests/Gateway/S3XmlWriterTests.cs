using System.Text;
using System.Xml.Linq;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

public class S3XmlWriterTests
{
    private static readonly XNamespace S3 = S3Xml.Namespace;
    private static readonly DateTimeOffset Modified = new(2009, 10, 12, 17, 50, 30, 123, TimeSpan.Zero);

    private static async Task<string> WriteAsync(Func<Stream, Task> write)
    {
        var output = new MemoryStream();
        await write(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static async Task<XElement> WriteAndParseAsync(Func<Stream, Task> write) => XElement.Parse(await WriteAsync(write));

    [Fact]
    public async Task ErrorXml_WritesCodeMessageDetailsResourceRequestIdAndHostId()
    {
        var error = S3Errors.AccessDenied("There were headers present in the request which were not signed") with
        {
            Details = [new("HeadersNotSigned", "x-amz-meta-a"), new("not valid!", "dropped")],
        };

        var root = await WriteAndParseAsync(s => ErrorXml.WriteAsync(s, error, "/bucket/a<b>&c", "req-1", "host-1"));

        Assert.Equal("Error", root.Name.LocalName);
        Assert.Equal("", root.Name.NamespaceName);
        Assert.Equal(["Code", "Message", "HeadersNotSigned", "Resource", "RequestId", "HostId"], root.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("AccessDenied", (string?)root.Element("Code"));
        Assert.Equal("/bucket/a<b>&c", (string?)root.Element("Resource"));
        Assert.Equal("host-1", (string?)root.Element("HostId"));
    }

    [Fact]
    public async Task ErrorXml_StartsWithTheXmlDeclarationAndNoByteOrderMark()
    {
        var output = new MemoryStream();
        await ErrorXml.WriteAsync(output, S3Errors.NoSuchKey(), null, "r", "h");

        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>NoSuchKey</Code>", Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal((byte)'<', output.ToArray()[0]);
    }

    private static ListObjectsResult Page(bool truncated = false, bool urlEncoded = false) =>
        new("bucket", "photos/", "/", 2, truncated,
            [new ListedObject("photos/a b&c.jpg", Modified, "\"etag1\"", 10), new ListedObject("photos/ü+%.jpg", Modified, "etag2", 20) { Owner = new("owner-id", "me") }],
            ["photos/2024/", "photos/x y/"])
        { UrlEncoded = urlEncoded };

    [Fact]
    public async Task ListObjectsXml_V2_WritesTheListBucketResult()
    {
        var root = await WriteAndParseAsync(s => ListObjectsXml.WriteV2Async(s, Page(truncated: true) with { NextContinuationToken = "tok/en==", StartAfter = "photos/0" }));

        Assert.Equal(S3 + "ListBucketResult", root.Name);
        Assert.Equal("bucket", (string?)root.Element(S3 + "Name"));
        Assert.Equal("photos/", (string?)root.Element(S3 + "Prefix"));
        Assert.Equal("4", (string?)root.Element(S3 + "KeyCount"));
        Assert.Equal("2", (string?)root.Element(S3 + "MaxKeys"));
        Assert.Equal("/", (string?)root.Element(S3 + "Delimiter"));
        Assert.Equal("true", (string?)root.Element(S3 + "IsTruncated"));
        Assert.Equal("tok/en==", (string?)root.Element(S3 + "NextContinuationToken"));
        Assert.Equal("photos/0", (string?)root.Element(S3 + "StartAfter"));
        Assert.Null(root.Element(S3 + "EncodingType"));
        Assert.Null(root.Element(S3 + "Marker"));
        var contents = root.Elements(S3 + "Contents").ToList();
        Assert.Equal(["photos/a b&c.jpg", "photos/ü+%.jpg"], contents.Select(c => (string?)c.Element(S3 + "Key")));
        Assert.Equal("2009-10-12T17:50:30.123Z", (string?)contents[0].Element(S3 + "LastModified"));
        Assert.Equal(["\"etag1\"", "\"etag2\""], contents.Select(c => (string?)c.Element(S3 + "ETag")));
        Assert.Equal("20", (string?)contents[1].Element(S3 + "Size"));
        Assert.Equal("STANDARD", (string?)contents[0].Element(S3 + "StorageClass"));
        Assert.Null(contents[0].Element(S3 + "Owner"));
        Assert.Equal("owner-id", (string?)contents[1].Element(S3 + "Owner")?.Element(S3 + "ID"));
        Assert.Equal(["photos/2024/", "photos/x y/"], root.Elements(S3 + "CommonPrefixes").Select(p => (string?)p.Element(S3 + "Prefix")));
    }

    [Fact]
    public async Task ListObjectsXml_V2NotTruncated_HasNoNextContinuationToken()
    {
        var root = await WriteAndParseAsync(s => ListObjectsXml.WriteV2Async(s, Page() with { NextContinuationToken = "ignored", ContinuationToken = "asked" }));

        Assert.Null(root.Element(S3 + "NextContinuationToken"));
        Assert.Equal("asked", (string?)root.Element(S3 + "ContinuationToken"));
        Assert.Equal("false", (string?)root.Element(S3 + "IsTruncated"));
    }

    [Fact]
    public async Task ListObjectsXml_UrlEncoding_EncodesKeysPrefixesDelimiterAndStartAfterButNotTokens()
    {
        var page = Page(truncated: true, urlEncoded: true) with { Prefix = "pho tos/", Delimiter = "+", StartAfter = "a b", NextContinuationToken = "a+b=" };

        var root = await WriteAndParseAsync(s => ListObjectsXml.WriteV2Async(s, page));

        Assert.Equal("url", (string?)root.Element(S3 + "EncodingType"));
        Assert.Equal("pho%20tos/", (string?)root.Element(S3 + "Prefix"));
        Assert.Equal("%2B", (string?)root.Element(S3 + "Delimiter"));
        Assert.Equal("a%20b", (string?)root.Element(S3 + "StartAfter"));
        Assert.Equal("a+b=", (string?)root.Element(S3 + "NextContinuationToken"));
        Assert.Equal(["photos/a%20b%26c.jpg", "photos/%C3%BC%2B%25.jpg"], root.Elements(S3 + "Contents").Select(c => (string?)c.Element(S3 + "Key")));
        Assert.Equal(["photos/2024/", "photos/x%20y/"], root.Elements(S3 + "CommonPrefixes").Select(p => (string?)p.Element(S3 + "Prefix")));
        foreach (var key in root.Elements(S3 + "Contents").Select(c => (string)c.Element(S3 + "Key")!))
            Assert.Contains(Uri.UnescapeDataString(key), page.Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task ListObjectsXml_KeyWithCharactersXmlCannotCarry_IsACharacterReferenceOrUrlEncoded()
    {
        var page = Page() with { Objects = [new ListedObject("a\u0001b\rc\uFFFEd", Modified, "e", 1)], CommonPrefixes = [] };

        string plain = await WriteAsync(s => ListObjectsXml.WriteV2Async(s, page));
        string encoded = await WriteAsync(s => ListObjectsXml.WriteV2Async(s, page with { UrlEncoded = true }));

        Assert.Contains("<Key>a&#x1;b&#xD;c&#xFFFE;d</Key>", plain);
        Assert.Contains("<Key>a%01b%0Dc%EF%BF%BEd</Key>", encoded);
        Assert.Equal("a\u0001b\rc\uFFFEd", Uri.UnescapeDataString((string)XElement.Parse(encoded).Element(S3 + "Contents")!.Element(S3 + "Key")!));
    }

    [Fact]
    public async Task ListObjectsXml_CarriageReturnInKey_SurvivesAParser()
    {
        var page = Page() with { Objects = [new ListedObject("line1\r\nline2\r", Modified, "e", 1)], CommonPrefixes = [] };

        var root = await WriteAndParseAsync(s => ListObjectsXml.WriteV2Async(s, page));

        Assert.Equal("line1\r\nline2\r", (string?)root.Element(S3 + "Contents")!.Element(S3 + "Key"));
    }

    [Fact]
    public async Task ListObjectsXml_V1TruncatedWithDelimiter_WritesNextMarker()
    {
        var withDelimiter = await WriteAndParseAsync(s => ListObjectsXml.WriteV1Async(s, Page(truncated: true) with { Marker = "m" }));
        var withoutDelimiter = await WriteAndParseAsync(s => ListObjectsXml.WriteV1Async(s, Page(truncated: true) with { Delimiter = null }));
        var notTruncated = await WriteAndParseAsync(s => ListObjectsXml.WriteV1Async(s, Page()));

        Assert.Equal("m", (string?)withDelimiter.Element(S3 + "Marker"));
        // The later of the last key and the last prefix in listing (UTF-8) order: 'ü' (C3 BC) sorts after 'x'.
        Assert.Equal("photos/ü+%.jpg", (string?)withDelimiter.Element(S3 + "NextMarker"));
        Assert.Null(withDelimiter.Element(S3 + "KeyCount"));
        Assert.Null(withoutDelimiter.Element(S3 + "NextMarker"));
        Assert.Equal("", (string?)withoutDelimiter.Element(S3 + "Marker"));
        Assert.Null(notTruncated.Element(S3 + "NextMarker"));
    }

    [Fact]
    public async Task ListObjectsXml_V1UrlEncoded_EncodesMarkerAndNextMarker()
    {
        var root = await WriteAndParseAsync(s => ListObjectsXml.WriteV1Async(s, Page(truncated: true, urlEncoded: true) with { Marker = "a b", NextMarker = "c d" }));

        Assert.Equal("a%20b", (string?)root.Element(S3 + "Marker"));
        Assert.Equal("c%20d", (string?)root.Element(S3 + "NextMarker"));
    }

    [Fact]
    public async Task ListObjectsXml_ThousandKeys_StreamsInPieces()
    {
        var objects = Enumerable.Range(0, 1000).Select(i => new ListedObject($"some/longer/prefix/key-{i:D6}.bin", Modified, "0123456789abcdef0123456789abcdef", i)).ToList();
        var output = new WriteRecordingStream();

        await ListObjectsXml.WriteV2Async(output, Page() with { Objects = objects, CommonPrefixes = [] });

        // About 218 KB of XML leaves in writes of at most the async XmlWriter's 64 KiB buffer, not as one string.
        Assert.True(output.Writes >= 3 && output.LargestWrite <= 64 * 1024, $"{output.Writes} writes, largest {output.LargestWrite} of {output.Length}");
        Assert.Equal(1000, XElement.Parse(Encoding.UTF8.GetString(output.ToArray())).Elements(S3 + "Contents").Count());
    }

    [Fact]
    public async Task BucketXml_ListAllMyBuckets_WritesOwnerAndBuckets()
    {
        var root = await WriteAndParseAsync(s => BucketXml.WriteListAllMyBucketsAsync(s, new S3Owner("id", "name"),
            [new BucketEntry("a", Modified), new BucketEntry("b", Modified) { Region = "eu-west-1" }]));

        Assert.Equal(S3 + "ListAllMyBucketsResult", root.Name);
        Assert.Equal("name", (string?)root.Element(S3 + "Owner")?.Element(S3 + "DisplayName"));
        var buckets = root.Element(S3 + "Buckets")!.Elements(S3 + "Bucket").ToList();
        Assert.Equal(["a", "b"], buckets.Select(b => (string?)b.Element(S3 + "Name")));
        Assert.Equal("2009-10-12T17:50:30.123Z", (string?)buckets[0].Element(S3 + "CreationDate"));
        Assert.Equal("eu-west-1", (string?)buckets[1].Element(S3 + "BucketRegion"));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("us-east-1", "")]
    [InlineData("eu-central-1", "eu-central-1")]
    public async Task BucketXml_LocationConstraint_IsEmptyForUsEast1(string? region, string expected)
    {
        var root = await WriteAndParseAsync(s => BucketXml.WriteLocationConstraintAsync(s, region));

        Assert.Equal(S3 + "LocationConstraint", root.Name);
        Assert.Equal(expected, root.Value);
    }

    [Fact]
    public async Task MultipartXml_InitiateAndComplete_CarryTheirFields()
    {
        var initiate = await WriteAndParseAsync(s => MultipartXml.WriteInitiateAsync(s, "b", "k&<>", "upload-1"));
        var complete = await WriteAndParseAsync(s => MultipartXml.WriteCompleteAsync(s, "http://h/b/k", "b", "k", "abc-2",
            new ObjectChecksum(ChecksumAlgorithm.Crc32, "y/Q5Jg==")));

        Assert.Equal(S3 + "InitiateMultipartUploadResult", initiate.Name);
        Assert.Equal("k&<>", (string?)initiate.Element(S3 + "Key"));
        Assert.Equal("upload-1", (string?)initiate.Element(S3 + "UploadId"));
        Assert.Equal(S3 + "CompleteMultipartUploadResult", complete.Name);
        Assert.Equal("\"abc-2\"", (string?)complete.Element(S3 + "ETag"));
        Assert.Equal("y/Q5Jg==", (string?)complete.Element(S3 + "ChecksumCRC32"));
        Assert.Equal("http://h/b/k", (string?)complete.Element(S3 + "Location"));
    }

    [Fact]
    public async Task MultipartXml_ListParts_WritesPartsAndTheNextMarkerWhenTruncated()
    {
        var result = new ListPartsResult("b", "k", "u", 0, 2, true,
            [new PartEntry(1, Modified, "e1", 5 << 20), new PartEntry(2, Modified, "e2", 5 << 20) { Checksum = new(ChecksumAlgorithm.Crc32C, "AAAAAA==") }])
        { Owner = new("o") };

        var root = await WriteAndParseAsync(s => MultipartXml.WriteListPartsAsync(s, result));

        Assert.Equal(S3 + "ListPartsResult", root.Name);
        Assert.Equal("2", (string?)root.Element(S3 + "NextPartNumberMarker"));
        Assert.Equal("true", (string?)root.Element(S3 + "IsTruncated"));
        Assert.Equal(["1", "2"], root.Elements(S3 + "Part").Select(p => (string?)p.Element(S3 + "PartNumber")));
        Assert.Equal("5242880", (string?)root.Element(S3 + "Part")!.Element(S3 + "Size"));
        Assert.Equal("AAAAAA==", (string?)root.Elements(S3 + "Part").Last().Element(S3 + "ChecksumCRC32C"));
        Assert.Equal("o", (string?)root.Element(S3 + "Owner")?.Element(S3 + "ID"));
    }

    [Fact]
    public async Task MultipartXml_ListUploads_UrlEncodesKeysWhenAsked()
    {
        var result = new ListUploadsResult("b", 1000, false, [new UploadEntry("a b", "u1", Modified)], ["p q/"]) { Prefix = "", UrlEncoded = true };

        var root = await WriteAndParseAsync(s => MultipartXml.WriteListUploadsAsync(s, result));

        Assert.Equal(S3 + "ListMultipartUploadsResult", root.Name);
        Assert.Equal("a%20b", (string?)root.Element(S3 + "Upload")!.Element(S3 + "Key"));
        Assert.Equal("u1", (string?)root.Element(S3 + "Upload")!.Element(S3 + "UploadId"));
        Assert.Equal("2009-10-12T17:50:30.123Z", (string?)root.Element(S3 + "Upload")!.Element(S3 + "Initiated"));
        Assert.Equal("p%20q/", (string?)root.Element(S3 + "CommonPrefixes")!.Element(S3 + "Prefix"));
        Assert.Equal("url", (string?)root.Element(S3 + "EncodingType"));
    }

    [Fact]
    public async Task CopyXml_WritesLastModifiedAndQuotedETag()
    {
        var copy = await WriteAndParseAsync(s => CopyXml.WriteCopyObjectResultAsync(s, "abc", Modified));
        var part = await WriteAndParseAsync(s => CopyXml.WriteCopyPartResultAsync(s, "\"def\"", Modified));

        Assert.Equal(S3 + "CopyObjectResult", copy.Name);
        Assert.Equal("\"abc\"", (string?)copy.Element(S3 + "ETag"));
        Assert.Equal("2009-10-12T17:50:30.123Z", (string?)copy.Element(S3 + "LastModified"));
        Assert.Equal(S3 + "CopyPartResult", part.Name);
        Assert.Equal("\"def\"", (string?)part.Element(S3 + "ETag"));
    }

    [Fact]
    public async Task DeleteResultXml_QuietLeavesOutDeletedButNotErrors()
    {
        DeletedObject[] deleted = [new("a"), new("b") { VersionId = "v", DeleteMarker = true, DeleteMarkerVersionId = "dm" }];
        DeleteFailure[] failures = [new("c", "AccessDenied", "Access Denied")];

        var loud = await WriteAndParseAsync(s => DeleteResultXml.WriteAsync(s, quiet: false, deleted, failures));
        var quiet = await WriteAndParseAsync(s => DeleteResultXml.WriteAsync(s, quiet: true, deleted, failures));

        Assert.Equal(S3 + "DeleteResult", loud.Name);
        Assert.Equal(["a", "b"], loud.Elements(S3 + "Deleted").Select(d => (string?)d.Element(S3 + "Key")));
        Assert.Equal("true", (string?)loud.Elements(S3 + "Deleted").Last().Element(S3 + "DeleteMarker"));
        Assert.Equal("AccessDenied", (string?)loud.Element(S3 + "Error")!.Element(S3 + "Code"));
        Assert.Empty(quiet.Elements(S3 + "Deleted"));
        Assert.Single(quiet.Elements(S3 + "Error"));
    }

    private sealed class WriteRecordingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public int LargestWrite { get; private set; }

        public override void Write(byte[] buffer, int offset, int count) => Record(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => Record(buffer);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Record(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Record(buffer.Span);
            return ValueTask.CompletedTask;
        }

        private void Record(ReadOnlySpan<byte> data)
        {
            Writes++;
            LargestWrite = Math.Max(LargestWrite, data.Length);
            // The array overload: MemoryStream's span overload calls back into Write(byte[]...) for a derived type.
            base.Write(data.ToArray(), 0, data.Length);
        }
    }
}
