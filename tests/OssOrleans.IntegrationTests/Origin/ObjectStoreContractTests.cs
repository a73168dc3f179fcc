using System.Security.Cryptography;
using System.Text;
using OssOrleans.Storage;

namespace OssOrleans.IntegrationTests.Origin;

/// <summary>
/// What every origin adapter must do, run unchanged against the local-directory store, real s3rver and the
/// origin simulator (so the simulator cannot drift from a real server). Known gaps of a server are skipped with the reason.
/// </summary>
public abstract class ObjectStoreContractTests
{
    protected abstract IObjectStore Store { get; }

    protected abstract string Bucket { get; }

    /// <summary>Null when the store supports AbortMultipartUpload; otherwise why not.</summary>
    protected virtual string? AbortGap => null;

    /// <summary>Null when create-only writes are enforced; otherwise why not.</summary>
    protected virtual string? CreateOnlyGap => null;

    /// <summary>Null when keys with empty segments ("a//b") are stored; otherwise why not.</summary>
    protected virtual string? EmptySegmentGap => null;

    /// <summary>Null when the range "bytes=0-0" is served as one byte; otherwise why not.</summary>
    protected virtual string? FirstByteRangeGap => null;

    /// <summary>Null when ListParts and ListMultipartUploads are served; otherwise why not.</summary>
    protected virtual string? UploadListingGap => null;

    private static readonly string Run = Guid.NewGuid().ToString("N")[..8];

    private static string NewKey(string name) => $"contract/{Run}/{name}";

    private static byte[] RandomBytes(int length)
    {
        var b = new byte[length];
        Random.Shared.NextBytes(b);
        return b;
    }

    [Fact]
    public async Task Head_AfterPut_ReturnsSizeAndETag()
    {
        var key = NewKey("head.bin");
        var data = RandomBytes(12345);
        var put = await Store.PutAsync(Bucket, key, data);

        var meta = await Store.HeadAsync(Bucket, key);

        Assert.Equal(12345, meta.Size);
        Assert.Equal(put.ETag, meta.ETag);
        Assert.False(string.IsNullOrEmpty(meta.ETag));
    }

    [Fact]
    public async Task Head_MissingKey_ThrowsObjectNotFound()
    {
        var ex = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.HeadAsync(Bucket, NewKey("missing")));
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ReadRange_FirstByteOnly_ReturnsOneByte()
    {
        Skip.If(FirstByteRangeGap is not null, FirstByteRangeGap);
        var key = NewKey("first-byte.bin");
        var data = RandomBytes(1000);
        var put = await Store.PutAsync(Bucket, key, data);
        var one = new byte[1];
        await Store.ReadRangeAsync(Bucket, key, put.ETag, 0, one);
        Assert.Equal(data[0], one[0]);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(0, 3 << 20)]
    [InlineData(1, 100)]
    [InlineData((1 << 20) - 7, 1 << 20)]
    [InlineData((3 << 20) - 1, 1)]
    public async Task ReadRange_InsideObject_ReturnsExactBytes(int offset, int length)
    {
        var key = NewKey($"range-{offset}-{length}.bin");
        var data = RandomBytes(3 << 20);
        var put = await Store.PutAsync(Bucket, key, data);

        var buffer = new byte[length];
        await Store.ReadRangeAsync(Bucket, key, put.ETag, offset, buffer);

        Assert.True(data.AsSpan(offset, length).SequenceEqual(buffer), $"bytes at {offset}+{length} differ");
    }

    [Fact]
    public async Task ReadRange_ZeroLength_ReturnsWithoutError()
    {
        var key = NewKey("zero-range.bin");
        var put = await Store.PutAsync(Bucket, key, RandomBytes(10));
        await Store.ReadRangeAsync(Bucket, key, put.ETag, 5, Memory<byte>.Empty);
    }

    [Fact]
    public async Task ReadRange_AfterOverwrite_OldETagIsRejected()
    {
        var key = NewKey("overwrite.bin");
        var first = await Store.PutAsync(Bucket, key, RandomBytes(4096));
        // Some stores derive the ETag from the modification time; make sure the clock moves.
        await Task.Delay(20);
        var second = await Store.PutAsync(Bucket, key, RandomBytes(4096));
        Assert.NotEqual(first.ETag, second.ETag);

        await Assert.ThrowsAsync<PreconditionFailedException>(() => Store.ReadRangeAsync(Bucket, key, first.ETag, 0, new byte[100]));
        var buffer = new byte[100];
        await Store.ReadRangeAsync(Bucket, key, second.ETag, 0, buffer);
    }

    [Fact]
    public async Task CopyRangeTo_Stream_WritesExactBytes()
    {
        var key = NewKey("copy.bin");
        var data = RandomBytes(2 << 20);
        var put = await Store.PutAsync(Bucket, key, data);
        using var sink = new MemoryStream();

        await Store.CopyRangeToAsync(Bucket, key, put.ETag, 1000, 1 << 20, sink);

        Assert.Equal(data.AsSpan(1000, 1 << 20).ToArray(), sink.ToArray());
    }

    [Fact]
    public async Task ListPage_WithDelimiter_ReturnsObjectsAndCommonPrefixes()
    {
        var root = NewKey("tree/");
        foreach (var k in new[] { "a.txt", "b.txt", "d1/x", "d1/y", "d2/z" })
            await Store.PutAsync(Bucket, root + k, Encoding.UTF8.GetBytes(k));

        var page = await Store.ListPageAsync(new ListRequest(Bucket, root) { Delimiter = "/" });

        Assert.Equal([root + "a.txt", root + "b.txt"], page.Entries.Select(e => e.Key));
        Assert.Equal([root + "d1/", root + "d2/"], page.CommonPrefixes);
        Assert.False(page.IsTruncated);
        Assert.Equal(5, page.Entries.Single(e => e.Key == root + "a.txt").Size);
    }

    [Fact]
    public async Task ListPage_Paging_ReturnsEveryKeyOnceInOrder()
    {
        var root = NewKey("paging/");
        var keys = Enumerable.Range(0, 23).Select(i => $"{root}k{i:D3}").ToList();
        foreach (var k in keys)
            await Store.PutAsync(Bucket, k, new byte[] { 1 });

        var seen = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            var page = await Store.ListPageAsync(new ListRequest(Bucket, root) { MaxKeys = 7, ContinuationToken = token });
            Assert.True(page.Entries.Count <= 7, $"page of {page.Entries.Count} entries, asked for at most 7");
            seen.AddRange(page.Entries.Select(e => e.Key));
            Assert.Equal(page.IsTruncated, page.NextContinuationToken is not null);
            token = page.NextContinuationToken;
            Assert.True(++pages <= 10, "listing did not end after 10 pages");
        } while (token is not null);

        Assert.Equal(keys, seen);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task ListPage_StartAfter_SkipsEarlierKeys()
    {
        var root = NewKey("startafter/");
        foreach (var k in new[] { "a", "b", "c", "d" })
            await Store.PutAsync(Bucket, root + k, new byte[] { 1 });

        var page = await Store.ListPageAsync(new ListRequest(Bucket, root) { StartAfter = root + "b" });

        Assert.Equal([root + "c", root + "d"], page.Entries.Select(e => e.Key));
    }

    [Fact]
    public async Task ListPage_PrefixWithNoMatch_IsEmpty()
    {
        var page = await Store.ListPageAsync(new ListRequest(Bucket, NewKey("nothing-here/")));
        Assert.Empty(page.Entries);
        Assert.Empty(page.CommonPrefixes);
        Assert.False(page.IsTruncated);
    }

    [Fact]
    public async Task Keys_UnicodeSpacesAndLongNames_RoundTrip()
    {
        var root = NewKey("names/");
        var keys = new List<string> { root + "with space.txt", root + "ünïcødé/数据/файл.bin", root + "plus+and&amp=.txt" };
        // The longest key S3 allows: 1023 bytes of UTF-8 in total, in segments short enough for servers that store files.
        var longKey = new StringBuilder(root);
        while (Encoding.UTF8.GetByteCount(longKey.ToString()) < ObjectUri.MaxKeyBytes)
            longKey.Append(Encoding.UTF8.GetByteCount(longKey.ToString()) % 200 == 199 ? '/' : 'k');
        Assert.Equal(ObjectUri.MaxKeyBytes, Encoding.UTF8.GetByteCount(longKey.ToString()));
        keys.Add(longKey.ToString());
        foreach (var k in keys)
            await Store.PutAsync(Bucket, k, Encoding.UTF8.GetBytes(k));

        foreach (var k in keys)
        {
            var meta = await Store.HeadAsync(Bucket, k);
            var buffer = new byte[meta.Size];
            await Store.ReadRangeAsync(Bucket, k, meta.ETag, 0, buffer);
            Assert.Equal(k, Encoding.UTF8.GetString(buffer));
        }
        var listed = new List<string>();
        string? token = null;
        do
        {
            var page = await Store.ListPageAsync(new ListRequest(Bucket, root) { ContinuationToken = token });
            listed.AddRange(page.Entries.Select(e => e.Key));
            token = page.NextContinuationToken;
        } while (token is not null);
        Assert.Equal(keys.Order(Utf8Order.Instance), listed);
    }

    [SkippableFact]
    public async Task Keys_RepeatedSlash_RoundTrip()
    {
        Skip.If(EmptySegmentGap is not null, EmptySegmentGap);
        var key = NewKey("double//slash");
        var put = await Store.PutAsync(Bucket, key, new byte[] { 7, 8, 9 });
        var buffer = new byte[3];
        await Store.ReadRangeAsync(Bucket, key, put.ETag, 0, buffer);
        Assert.Equal([7, 8, 9], buffer);
    }

    [Fact]
    public async Task Multipart_Complete_ObjectAppearsWholeOnlyAtCompletion()
    {
        var key = NewKey("multipart.bin");
        var part1 = RandomBytes(5 << 20);
        var part2 = RandomBytes(123_457);
        var id = await Store.InitiateMultipartAsync(Bucket, key);
        var up2 = await Store.UploadPartAsync(Bucket, key, id, 2, part2);
        var up1 = await Store.UploadPartAsync(Bucket, key, id, 1, part1);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.HeadAsync(Bucket, key));

        var done = await Store.CompleteMultipartAsync(Bucket, key, id, [up1, up2]);
        var meta = await Store.HeadAsync(Bucket, key);
        Assert.Equal(part1.Length + part2.Length, meta.Size);
        Assert.Equal(done.ETag, meta.ETag);
        var all = new byte[meta.Size];
        await Store.ReadRangeAsync(Bucket, key, meta.ETag, 0, all);
        Assert.Equal(SHA256.HashData([.. part1, .. part2]), SHA256.HashData(all));
    }

    [SkippableFact]
    public async Task Multipart_Abort_LeavesNothingVisible()
    {
        Skip.If(AbortGap is not null, AbortGap);
        var key = NewKey("aborted.bin");
        var id = await Store.InitiateMultipartAsync(Bucket, key);
        await Store.UploadPartAsync(Bucket, key, id, 1, RandomBytes(1024));

        await Store.AbortMultipartAsync(Bucket, key, id);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.HeadAsync(Bucket, key));
    }

    [SkippableFact]
    public async Task Put_CreateOnlyOnExistingKey_ThrowsAlreadyExists()
    {
        Skip.If(CreateOnlyGap is not null, CreateOnlyGap);
        var key = NewKey("create-only.bin");
        await Store.PutAsync(Bucket, key, new byte[] { 1 }, new PutOptions { CreateOnly = true });

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => Store.PutAsync(Bucket, key, new byte[] { 2 }, new PutOptions { CreateOnly = true }));

        var meta = await Store.HeadAsync(Bucket, key);
        var b = new byte[1];
        await Store.ReadRangeAsync(Bucket, key, meta.ETag, 0, b);
        Assert.Equal(1, b[0]);
    }

    [Fact]
    public async Task Delete_ExistingAndMissing_RemovesAndDoesNotThrow()
    {
        var key = NewKey("delete-me");
        await Store.PutAsync(Bucket, key, new byte[] { 1 });

        await Store.DeleteAsync(Bucket, key);
        await Store.DeleteAsync(Bucket, key);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.HeadAsync(Bucket, key));
    }

    [Fact]
    public async Task Buckets_CreateListDelete_OriginDecides()
    {
        string bucket = "contract-b-" + Run;
        Assert.False(await Store.BucketExistsAsync(bucket));

        await Store.CreateBucketAsync(bucket);
        Assert.True(await Store.BucketExistsAsync(bucket));
        Assert.Contains(await Store.ListBucketsAsync(), b => b.Name == bucket);
        await Store.PutAsync(bucket, "k", new byte[] { 1 });
        var notEmpty = await Assert.ThrowsAsync<OriginRefusedException>(() => Store.DeleteBucketAsync(bucket));
        Assert.Equal(("BucketNotEmpty", 409), (notEmpty.Code, notEmpty.StatusCode));
        await Store.DeleteAsync(bucket, "k");
        await Store.DeleteBucketAsync(bucket);

        Assert.False(await Store.BucketExistsAsync(bucket));
        Assert.DoesNotContain(await Store.ListBucketsAsync(), b => b.Name == bucket);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.DeleteBucketAsync(bucket));
    }

    [SkippableFact]
    public async Task UploadListing_PartsAndUploadsInProgress_AreListedUntilCompleted()
    {
        Skip.If(UploadListingGap is not null, UploadListingGap);
        var key = NewKey("listed/upload.bin");
        var id = await Store.InitiateMultipartAsync(Bucket, key);
        var up1 = await Store.UploadPartAsync(Bucket, key, id, 1, RandomBytes(5 << 20));
        var up2 = await Store.UploadPartAsync(Bucket, key, id, 2, RandomBytes(1000));

        var parts = await Store.ListPartsAsync(Bucket, key, id, partNumberMarker: 0, maxParts: 1);
        var rest = await Store.ListPartsAsync(Bucket, key, id, parts.NextPartNumberMarker, maxParts: 1000);
        var uploads = await Store.ListMultipartUploadsAsync(new MultipartUploadListRequest(Bucket, NewKey("listed/")));
        var rolledUp = await Store.ListMultipartUploadsAsync(new MultipartUploadListRequest(Bucket, NewKey("")) { Delimiter = "/" });

        Assert.True(parts.IsTruncated);
        Assert.Equal([(1, 5L << 20)], parts.Parts.Select(p => (p.PartNumber, p.Size)));
        Assert.True(StoreKeys.ETagEquals(up1.ETag, parts.Parts[0].ETag));
        Assert.False(rest.IsTruncated);
        Assert.Equal([(2, 1000L)], rest.Parts.Select(p => (p.PartNumber, p.Size)));
        Assert.True(StoreKeys.ETagEquals(up2.ETag, rest.Parts[0].ETag));
        Assert.Contains(uploads.Uploads, u => u.Key == key && u.UploadId.EndsWith(id.Split(':')[^1], StringComparison.Ordinal));
        Assert.Contains(NewKey("listed/"), rolledUp.CommonPrefixes);

        await Store.CompleteMultipartAsync(Bucket, key, id, [up1, up2]);
        var after = await Store.ListMultipartUploadsAsync(new MultipartUploadListRequest(Bucket, NewKey("listed/")));
        Assert.DoesNotContain(after.Uploads, u => u.Key == key);
        await Assert.ThrowsAsync<UploadNotFoundException>(() => Store.ListPartsAsync(Bucket, key, id, 0, 1000));
    }

    /// <summary>S3 lists keys in UTF-8 byte order, which differs from UTF-16 ordinal order for surrogate pairs.</summary>
    private sealed class Utf8Order : IComparer<string>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(string? x, string? y) =>
            Encoding.UTF8.GetBytes(x ?? "").AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y ?? ""));
    }
}
