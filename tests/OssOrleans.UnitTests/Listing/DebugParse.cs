using System.Text;
using OssOrleans.Storage;
using Xunit.Abstractions;

namespace OssOrleans.UnitTests.Listing;

public sealed class DebugParse(ITestOutputHelper output)
{
    [Fact]
    public void Debug_ParseSpeed()
    {
        var sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>");
        for (int i = 0; i < 1000; i++)
            sb.Append($"<Contents><Key>flat/{i:D8}.jpg</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>16</Size><StorageClass>STANDARD</StorageClass></Contents>");
        sb.Append("<NextContinuationToken>abc</NextContinuationToken></ListBucketResult>");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        output.WriteLine($"page bytes {bytes.Length}");
        for (int round = 0; round < 3; round++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 500; i++) S3ListXml.TryParse(bytes, out _);
            output.WriteLine($"fast: {sw.Elapsed.TotalMilliseconds / 500:0.000} ms/page");
            sw.Restart();
            for (int i = 0; i < 100; i++) S3ListClient.ParseWithXmlReader(bytes, bytes.Length);
            output.WriteLine($"xmlreader: {sw.Elapsed.TotalMilliseconds / 100:0.000} ms/page");
            sw.Restart();
            for (int i = 0; i < 500; i++)
            {
                S3ListXml.TryParse(bytes, out var page);
                var w = new ListEntryWriter();
                foreach (var e in page.Entries) w.Add(e.Key, e.Size, e.ETag, e.LastModified);
                w.ToChunk().ReadEntries();
            }
            output.WriteLine($"parse+pack+unpack: {sw.Elapsed.TotalMilliseconds / 500:0.000} ms/page");
        }
    }
}
