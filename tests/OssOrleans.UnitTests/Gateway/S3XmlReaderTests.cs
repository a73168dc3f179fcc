using System.Text;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

public class S3XmlReaderTests
{
    private static Task<IReadOnlyList<CompletedPart>> Complete(string xml) =>
        CompleteMultipartUploadReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(xml)));

    private static Task<DeleteObjectsRequest> Delete(string xml) => DeleteObjectsReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(xml)));

    private static async Task<string> RefusedCode(Func<Task> read) => (await Assert.ThrowsAsync<S3ProtocolException>(read)).Error.Code;

    [Fact]
    public async Task CompleteMultipartUploadReader_AsSdksSendIt_ReadsParts()
    {
        var parts = await Complete("""
            <?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Part><ETag>"a54357aff0632cce46d942af68356b38"</ETag><PartNumber>1</PartNumber></Part>
              <Part>
                <PartNumber>2</PartNumber>
                <ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>
                <ChecksumCRC32>y/Q5Jg==</ChecksumCRC32>
                <SomethingNew>ignored</SomethingNew>
              </Part>
            </CompleteMultipartUpload>
            """);

        Assert.Equal([1, 2], parts.Select(p => p.PartNumber));
        Assert.Equal("\"a54357aff0632cce46d942af68356b38\"", parts[0].ETag);
        Assert.Equal("\"0c78aef83f66abc1fa1e8477f296d394\"", parts[1].ETag);
        Assert.Equal(new ObjectChecksum(ChecksumAlgorithm.Crc32, "y/Q5Jg=="), parts[1].Checksum);
    }

    [Fact]
    public async Task CompleteMultipartUploadReader_WithoutNamespace_ReadsParts() =>
        Assert.Single(await Complete("<CompleteMultipartUpload><Part><PartNumber>7</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"));

    [Fact]
    public async Task CompleteMultipartUploadReader_TenThousandParts_IsTheLimit()
    {
        string Parts(int n) => string.Concat(Enumerable.Range(1, n).Select(i => $"<Part><PartNumber>{i}</PartNumber><ETag>\"{i:x32}\"</ETag></Part>"));

        Assert.Equal(10000, (await Complete($"<CompleteMultipartUpload>{Parts(10000)}</CompleteMultipartUpload>")).Count);
        Assert.Equal("MalformedXML", await RefusedCode(() => Complete($"<CompleteMultipartUpload>{Parts(10000)}<Part><PartNumber>10000</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>")));
    }

    [Theory]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>")]
    public async Task CompleteMultipartUploadReader_PartsOutOfOrder_IsInvalidPartOrder(string xml) =>
        Assert.Equal("InvalidPartOrder", await RefusedCode(() => Complete(xml)));

    [Theory]
    [InlineData("")]
    [InlineData("not xml")]
    [InlineData("<CompleteMultipartUpload/>")]
    [InlineData("<CompleteMultipartUpload></CompleteMultipartUpload>")]
    [InlineData("<Complete><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Complete>")]
    [InlineData("<CompleteMultipartUpload xmlns=\"urn:other\"><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1e3</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>99999999999999999999</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag><b>a</b></ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag><ChecksumCRC32>nope</ChecksumCRC32></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload>text<Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Other/><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>")]
    [InlineData("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a&#x1;</ETag></Part></CompleteMultipartUpload>")]
    public async Task CompleteMultipartUploadReader_MalformedDocument_IsMalformedXml(string xml) =>
        Assert.Equal("MalformedXML", await RefusedCode(() => Complete(xml)));

    [Fact]
    public async Task CompleteMultipartUploadReader_Dtd_IsRefused()
    {
        const string xml = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
            <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&lol2;</ETag></Part></CompleteMultipartUpload>
            """;

        Assert.Equal("MalformedXML", await RefusedCode(() => Complete(xml)));
    }

    [Fact]
    public async Task CompleteMultipartUploadReader_ExternalEntity_IsRefused()
    {
        const string xml = """
            <?xml version="1.0"?>
            <!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
            <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&secret;</ETag></Part></CompleteMultipartUpload>
            """;

        Assert.Equal("MalformedXML", await RefusedCode(() => Complete(xml)));
    }

    [Fact]
    public async Task CompleteMultipartUploadReader_BodyOverTheLimit_IsRefusedWithoutReadingItAll()
    {
        var body = new TrickleStream(Encoding.ASCII.GetBytes("<CompleteMultipartUpload>" + new string(' ', 8 << 20)), 64 * 1024);

        var e = await Assert.ThrowsAsync<S3ProtocolException>(() => CompleteMultipartUploadReader.ReadAsync(body));

        Assert.Equal("MaxMessageLengthExceeded", e.Error.Code);
        Assert.True(body.BytesRead <= CompleteMultipartUploadReader.MaxBytes + 64 * 1024);
    }

    [Fact]
    public async Task DeleteObjectsReader_AsSdksSendIt_ReadsKeysAsSent()
    {
        var request = await Delete("""
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Object><Key>a/b.txt</Key></Object>
              <Object><Key>  spaces  </Key><VersionId>v1</VersionId></Object>
              <Object><Key>amp&amp;lt&lt;cr&#13;</Key><ETag>"x"</ETag></Object>
              <Quiet>true</Quiet>
            </Delete>
            """);

        Assert.True(request.Quiet);
        Assert.Equal(["a/b.txt", "  spaces  ", "amp&lt<cr\r"], request.Objects.Select(o => o.Key));
        Assert.Equal("v1", request.Objects[1].VersionId);
        Assert.Null(request.Objects[0].VersionId);
    }

    [Fact]
    public async Task DeleteObjectsReader_WithoutQuiet_IsNotQuiet() =>
        Assert.False((await Delete("<Delete><Object><Key>k</Key></Object></Delete>")).Quiet);

    [Fact]
    public async Task DeleteObjectsReader_ThousandObjects_IsTheLimit()
    {
        string Objects(int n) => string.Concat(Enumerable.Range(0, n).Select(i => $"<Object><Key>{new string('k', 1000)}{i}</Key></Object>"));

        Assert.Equal(1000, (await Delete($"<Delete>{Objects(1000)}</Delete>")).Objects.Count);
        Assert.Equal("MalformedXML", await RefusedCode(() => Delete($"<Delete>{Objects(1001)}</Delete>")));
    }

    [Theory]
    [InlineData("<Delete/>")]
    [InlineData("<Delete><Quiet>true</Quiet></Delete>")]
    [InlineData("<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>")]
    [InlineData("<Delete><Quiet>true</Quiet><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>")]
    [InlineData("<Delete><Object><VersionId>v</VersionId></Object></Delete>")]
    [InlineData("<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>")]
    [InlineData("<Delete><Object><Key>&#x1;</Key></Object></Delete>")]
    [InlineData("<Delete><Object><Key>k</Key></Object><Extra/></Delete>")]
    [InlineData("<Objects><Object><Key>k</Key></Object></Objects>")]
    public async Task DeleteObjectsReader_MalformedDocument_IsMalformedXml(string xml) =>
        Assert.Equal("MalformedXML", await RefusedCode(() => Delete(xml)));

    [Fact]
    public async Task DeleteObjectsReader_OverlongKey_IsMalformedXml() =>
        Assert.Equal("MalformedXML", await RefusedCode(() => Delete($"<Delete><Object><Key>{new string('k', 1025)}</Key></Object></Delete>")));
}
