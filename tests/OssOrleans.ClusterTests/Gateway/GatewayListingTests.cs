using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using OssOrleans.Client;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>Listings and bucket operations through the gateways, against the origin's keys and the .NET client's listing.</summary>
[Collection(AnonymousGatewayCollection.Name)]
public sealed class GatewayListingTests(AnonymousGatewayFixture fixture)
{
    private GatewayCluster G => fixture.Gateway;

    private const string Bucket = GatewayCluster.Bucket;

    // 1,300 keys over two levels of "directories", with names S3 sorts by UTF-8 bytes.
    private static readonly string[] Names = [.. Enumerable.Range(0, 1300).Select(i => i % 5 == 0 ? $"list/d{i % 7}/sub{i % 3}/f{i:D4}" : $"list/d{i % 7}/f{i:D4}.bin")];

    private void EnsureKeys()
    {
        if (G.Origin.Keys(Bucket, "list/").Count == Names.Length)
            return;
        G.Origin.PutSharedObjects(Bucket, Names, [1, 2, 3]);
    }

    [Theory]
    [InlineData(null, 250)]
    [InlineData(null, 1000)]
    [InlineData("/", 3)]
    public async Task ListObjectsV2_Pages_MatchTheOriginAndTheClient(string? delimiter, int pageSize)
    {
        EnsureKeys();
        using var s3 = G.S3(1);
        var items = new List<string>();
        string? token = null;
        int pages = 0;
        string prefix = delimiter is null ? "list/" : "list/d3/";
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request
            { BucketName = Bucket, Prefix = prefix, Delimiter = delimiter, MaxKeys = pageSize, ContinuationToken = token });
            items.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            items.AddRange(page.CommonPrefixes ?? []);
            Assert.True((page.KeyCount ?? 0) <= pageSize);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
            pages++;
        }
        while (token is not null);

        var expected = await ClientListingAsync(prefix, delimiter);
        Assert.Equal(expected.Order(StringComparer.Ordinal), items.Order(StringComparer.Ordinal));
        if (delimiter is null)
            Assert.Equal(G.Origin.Keys(Bucket, "list/"), items);
        Assert.Equal((expected.Count + pageSize - 1) / pageSize, pages);
    }

    [Fact]
    public async Task ListObjectsV1_MarkerPagingWithDelimiter_MatchesTheClient()
    {
        EnsureKeys();
        using var s3 = G.S3(0);
        var items = new List<string>();
        string? marker = null;
        do
        {
            var page = await s3.ListObjectsAsync(new ListObjectsRequest { BucketName = Bucket, Prefix = "list/", Delimiter = "/", MaxKeys = 2, Marker = marker });
            items.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            items.AddRange(page.CommonPrefixes ?? []);
            marker = page.IsTruncated == true ? page.NextMarker : null;
        }
        while (marker is not null);

        Assert.Equal((await ClientListingAsync("list/", "/")).Order(StringComparer.Ordinal), items.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListObjectsV2_StartAfterAndUrlEncoding_AsS3()
    {
        string[] odd = ["odd/a b+c", "odd/ümlaut", "odd/😀 emoji", "odd/x&y<z>"];
        foreach (var k in odd)
            G.Origin.PutObject(Bucket, k, [1]);
        using var http = new HttpClient();

        string xml = await http.GetStringAsync($"{G.Urls[0]}/{Bucket}?list-type=2&prefix=odd%2F&encoding-type=url&start-after=odd%2Fa%20b%2Bc");
        using var s3 = G.S3();
        var sdk = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "odd/", Encoding = EncodingType.Url });

        Assert.Contains("<Key>odd/%C3%BCmlaut</Key>", xml);
        Assert.DoesNotContain("a%20b", xml.Replace("<StartAfter>odd/a%20b%2Bc</StartAfter>", "", StringComparison.Ordinal));
        Assert.Equal(odd.Order(StringComparer.Ordinal), (sdk.S3Objects ?? []).Select(o => Uri.UnescapeDataString(o.Key)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListObjects_RightAfterPutAndDelete_SeesTheWrites()
    {
        using var s3 = G.S3(0);
        using var other = G.S3(1);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "fresh/one", ContentBody = "1" });
        Assert.Equal(["fresh/one"], await KeysAsync(other, "fresh/"));

        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "fresh/two", ContentBody = "2" });
        Assert.Equal(["fresh/one", "fresh/two"], await KeysAsync(other, "fresh/"));

        await other.DeleteObjectAsync(Bucket, "fresh/one");
        Assert.Equal(["fresh/two"], await KeysAsync(s3, "fresh/"));
    }

    [Fact]
    public async Task Buckets_CreateHeadLocateListDelete()
    {
        using var s3 = G.S3();
        const string bucket = "gateway-made-bucket";

        await s3.PutBucketAsync(bucket);
        var head = await s3.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket });
        var location = await s3.GetBucketLocationAsync(bucket);
        var all = await s3.ListBucketsAsync();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "x" });
        var notEmpty = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.DeleteBucketAsync(bucket));
        await s3.DeleteObjectAsync(bucket, "k");
        await s3.DeleteBucketAsync(bucket);
        var gone = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }));

        Assert.Equal(HttpStatusCode.OK, head.HttpStatusCode);
        Assert.True(location.Location is null || location.Location.Value is "" or "us-east-1");
        Assert.Contains(all.Buckets, b => b.BucketName == bucket);
        Assert.Equal("BucketNotEmpty", notEmpty.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(G.Origin.BucketExists(bucket));
    }

    private async Task<List<string>> ClientListingAsync(string prefix, string? delimiter)
    {
        var keys = new List<string>();
        await foreach (var e in G.Cluster.Client.ListAsync(TestCacheCluster.Uri(prefix), new ListOptions { Delimiter = delimiter }))
            keys.Add(e.Key);
        return keys;
    }

    private static async Task<List<string>> KeysAsync(IAmazonS3 s3, string prefix)
    {
        var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix });
        return [.. (page.S3Objects ?? []).Select(o => o.Key)];
    }
}
