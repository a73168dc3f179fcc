using System.Text;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Storage;

public sealed class LocalDirectoryObjectStoreTests : IDisposable
{
    private readonly TempDirectory _sandbox = new();
    private readonly string _rootPath;
    private readonly LocalDirectoryObjectStore _store;

    public LocalDirectoryObjectStoreTests()
    {
        _rootPath = _sandbox.Combine("root");
        _store = new LocalDirectoryObjectStore(_rootPath);
    }

    public void Dispose() => _sandbox.Dispose();

    private static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task PutAsync_ThenHead_ReturnsSizeAndTheSameETag()
    {
        PutResult put = await _store.PutAsync("bucket", "dir/obj.bin", Bytes(1000));

        ObjectMetadata head = await _store.HeadAsync("bucket", "dir/obj.bin");

        Assert.Equal(1000, head.Size);
        Assert.Equal(put.ETag, head.ETag);
        Assert.Equal("dir/obj.bin", head.Key);
        Assert.StartsWith("\"", head.ETag);
        Assert.EndsWith("\"", head.ETag);
        Assert.True(File.Exists(Path.Join(_rootPath, "bucket", "dir", "obj.bin")));
    }

    [Fact]
    public async Task ReadRangeAsync_VariousRanges_ReturnsExactBytes()
    {
        byte[] content = Bytes(100_000);
        PutResult put = await _store.PutAsync("bucket", "obj", content);
        var random = new Random(3);

        for (int i = 0; i < 50; i++)
        {
            int offset = random.Next(0, content.Length);
            int length = random.Next(1, content.Length - offset + 1);
            var buffer = new byte[length];
            await _store.ReadRangeAsync("bucket", "obj", put.ETag, offset, buffer);
            Assert.True(content.AsSpan(offset, length).SequenceEqual(buffer), $"range [{offset}, {offset + length}) differs");
        }
    }

    [Fact]
    public async Task ReadRangeAsync_WholeObjectAndLastByte_ReturnExactBytes()
    {
        byte[] content = Bytes(4096);
        PutResult put = await _store.PutAsync("bucket", "obj", content);

        var whole = new byte[4096];
        await _store.ReadRangeAsync("bucket", "obj", put.ETag, 0, whole);
        var last = new byte[1];
        await _store.ReadRangeAsync("bucket", "obj", put.ETag, 4095, last);

        Assert.Equal(content, whole);
        Assert.Equal(content[4095], last[0]);
    }

    [Fact]
    public async Task ReadRangeAsync_AfterOverwriteWithSameLength_PreconditionFailed()
    {
        PutResult first = await _store.PutAsync("bucket", "obj", Bytes(64, seed: 1));
        PutResult second = await _store.PutAsync("bucket", "obj", Bytes(64, seed: 2));

        Assert.NotEqual(first.ETag, second.ETag);
        var ex = await Assert.ThrowsAsync<PreconditionFailedException>(() => _store.ReadRangeAsync("bucket", "obj", first.ETag, 0, new byte[8]));
        Assert.Equal(first.ETag, ex.ETag);
    }

    [Fact]
    public async Task PutAsync_ManyQuickOverwrites_EveryETagDiffers()
    {
        var etags = new HashSet<string>();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(etags.Add((await _store.PutAsync("bucket", "obj", new byte[10])).ETag), $"write {i} repeated an ETag");
        }
    }

    [Fact]
    public async Task ReadRangeAsync_UnquotedETag_Accepted()
    {
        PutResult put = await _store.PutAsync("bucket", "obj", Bytes(10));

        await _store.ReadRangeAsync("bucket", "obj", put.ETag.Trim('"'), 0, new byte[10]);
    }

    [Theory]
    [InlineData(0, 101)]
    [InlineData(100, 1)]
    [InlineData(90, 11)]
    [InlineData(200, 1)]
    public async Task ReadRangeAsync_RangeOutsideObject_ArgumentOutOfRange(long offset, int length)
    {
        PutResult put = await _store.PutAsync("bucket", "obj", Bytes(100));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.ReadRangeAsync("bucket", "obj", put.ETag, offset, new byte[length]));
    }

    [Fact]
    public async Task ReadAndHead_MissingObjectOrBucket_ObjectNotFound()
    {
        await _store.PutAsync("bucket", "obj", Bytes(10));

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.HeadAsync("bucket", "other"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.HeadAsync("nobucket", "obj"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.ReadRangeAsync("nobucket", "obj", "\"x\"", 0, new byte[1]));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.ListPageAsync(new ListRequest("nobucket")));
    }

    [Fact]
    public async Task HeadAsync_KeyThatIsAFolderOfLongerKeys_ObjectNotFound()
    {
        await _store.PutAsync("bucket", "a/b", Bytes(10));

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.HeadAsync("bucket", "a"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.ReadRangeAsync("bucket", "a", "\"x\"", 0, new byte[1]));
    }

    [Fact]
    public async Task CopyRangeToAsync_CopiesExactBytes()
    {
        byte[] content = Bytes(300_000);
        PutResult put = await _store.PutAsync("bucket", "obj", content);
        using var destination = new MemoryStream();

        await _store.CopyRangeToAsync("bucket", "obj", put.ETag, 12_345, 200_000, destination);

        Assert.Equal(content.AsSpan(12_345, 200_000).ToArray(), destination.ToArray());
    }

    [Fact]
    public async Task CopyRangeToAsync_StaleETag_PreconditionFailedAndNothingWritten()
    {
        PutResult put = await _store.PutAsync("bucket", "obj", Bytes(100, 1));
        await _store.PutAsync("bucket", "obj", Bytes(100, 2));
        using var destination = new MemoryStream();

        await Assert.ThrowsAsync<PreconditionFailedException>(() => _store.CopyRangeToAsync("bucket", "obj", put.ETag, 0, 10, destination));
        Assert.Equal(0, destination.Length);
    }

    [Fact]
    public async Task PutAsync_CreateOnlyOnExisting_ThrowsAndKeepsContent()
    {
        byte[] original = Bytes(50, 1);
        await _store.PutAsync("bucket", "obj", original);

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => _store.PutAsync("bucket", "obj", Bytes(50, 2), new PutOptions { CreateOnly = true }));

        ObjectMetadata head = await _store.HeadAsync("bucket", "obj");
        var read = new byte[50];
        await _store.ReadRangeAsync("bucket", "obj", head.ETag, 0, read);
        Assert.Equal(original, read);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(_rootPath, ".staging")));
    }

    [Fact]
    public async Task PutAsync_CreateOnlyRacing_ExactlyOneWins()
    {
        // File.Move(overwrite: false) checks then renames on Unix and let 3 of 16 writers win within 30 rounds here.
        for (int round = 0; round < 30; round++)
        {
            string key = $"race/{round}";
            Task<PutResult>[] writers = Enumerable.Range(0, 16)
                .Select(i => Task.Run(() => _store.PutAsync("bucket", key, Bytes(1000, i), new PutOptions { CreateOnly = true })))
                .ToArray();

            int wins = 0, losses = 0;
            foreach (Task<PutResult> writer in writers)
            {
                try
                {
                    await writer;
                    wins++;
                }
                catch (ObjectAlreadyExistsException)
                {
                    losses++;
                }
            }

            Assert.True(wins == 1 && losses == 15, $"round {round}: {wins} writers won, {losses} lost; expected 1 and 15");
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(_rootPath, ".staging")));
    }

    [Fact]
    public void Constructor_StaleStagingFile_Removed()
    {
        string stale = Path.Join(_rootPath, ".staging", "old.tmp");
        string fresh = Path.Join(_rootPath, ".staging", "new.tmp");
        File.WriteAllText(stale, "x");
        File.WriteAllText(fresh, "x");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));

        _ = new LocalDirectoryObjectStore(_rootPath);

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
    }

    [Fact]
    public async Task PutAsync_CreateOnlyNewKey_Succeeds()
    {
        PutResult put = await _store.PutAsync("bucket", "fresh", Bytes(5), new PutOptions { CreateOnly = true });

        Assert.Equal(put.ETag, (await _store.HeadAsync("bucket", "fresh")).ETag);
    }

    [Fact]
    public async Task DeleteAsync_RemovesObjectAndIsFineWhenMissing()
    {
        await _store.PutAsync("bucket", "a/b/c", Bytes(5));

        await _store.DeleteAsync("bucket", "a/b/c");
        await _store.DeleteAsync("bucket", "a/b/c");
        await _store.DeleteAsync("nobucket", "x/y");

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.HeadAsync("bucket", "a/b/c"));
        // Empty folders were pruned, so "a" can now be an object.
        await _store.PutAsync("bucket", "a", Bytes(5));
        Assert.Equal(5, (await _store.HeadAsync("bucket", "a")).Size);
    }

    [Fact]
    public async Task PutAsync_KeyBelowAnObject_ThrowsObjectStoreException()
    {
        await _store.PutAsync("bucket", "a", Bytes(5));

        await Assert.ThrowsAsync<ObjectStoreException>(() => _store.PutAsync("bucket", "a/b", Bytes(5)));
    }

    public static TheoryData<string> EscapingKeys => new()
    {
        "../outside", "a/../../outside", "..", ".", "./a", "a/./b", "a/..", "a//b", "/abs", "/", "a/", "a\\..\\b", "a\\b",
        "a\0b", "", "../root/bucket/x", "a/../b",
    };

    [Theory]
    [MemberData(nameof(EscapingKeys))]
    public async Task AllOperations_EscapingKey_RefusedAndNothingWrittenOutsideRoot(string key)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.PutAsync("bucket", key, Bytes(5)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.PutAsync("bucket", key, Bytes(5), new PutOptions { CreateOnly = true }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.HeadAsync("bucket", key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.ReadRangeAsync("bucket", key, "\"x\"", 0, new byte[1]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.CopyRangeToAsync("bucket", key, "\"x\"", 0, 1, Stream.Null));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.DeleteAsync("bucket", key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.InitiateMultipartAsync("bucket", key));

        Assert.Equal([_rootPath], Directory.EnumerateFileSystemEntries(_sandbox.Path));
        Assert.Equal([".staging", ".uploads"], Directory.EnumerateFileSystemEntries(_rootPath).Select(Path.GetFileName).Order());
        string[] files = Directory.GetFiles(_rootPath, "*", SearchOption.AllDirectories);
        Assert.Empty(files);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".staging")]
    [InlineData(".uploads")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("-bucket")]
    public async Task PutAsync_BadBucketName_Refused(string bucket)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.PutAsync(bucket, "k", Bytes(1)));
        Assert.Equal([".staging", ".uploads"], Directory.EnumerateFileSystemEntries(_rootPath).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("a/.b/..c")]
    [InlineData("a/...")]
    [InlineData("ünïcødé/😀")]
    [InlineData("with space/and+plus=eq")]
    public async Task PutAsync_UnusualButSafeKeys_StoredAndListed(string key)
    {
        await _store.PutAsync("bucket", key, Bytes(3));

        ListPage page = await _store.ListPageAsync(new ListRequest("bucket"));
        Assert.Equal([key], page.Entries.Select(e => e.Key));
    }

    [Fact]
    public async Task ListPageAsync_PagesOfThree_ReturnAllKeysOnceInUtf8Order()
    {
        string[] keys =
        [
            "a", "a/b", "a/c/d", "b", "B", "abc", "ab/c", "z", "\uFFFD", "😀", "é", "e", "a-b", "a.b", "a0", "aa/bb/cc",
            "x/1", "x/10", "x/2", "\u00FF", "\uE000",
        ];
        foreach (string key in keys.Where(k => k != "a")) // "a" and "a/b" cannot both be local objects
        {
            await _store.PutAsync("bucket", key, Encoding.UTF8.GetBytes(key));
        }
        string[] expected = keys.Where(k => k != "a").OrderBy(k => Encoding.UTF8.GetBytes(k), ByteOrder.Instance).ToArray();

        List<string> listed = await ListAll(new ListRequest("bucket") { MaxKeys = 3 });

        Assert.Equal(expected, listed);
        // CompareOrdinal would put U+FFFD after the emoji (surrogates are 0xD83D...); UTF-8 order puts it before.
        Assert.True(Array.IndexOf(expected, "\uFFFD") < Array.IndexOf(expected, "😀"));
    }

    [Fact]
    public async Task ListPageAsync_PrefixAndDelimiter_AnyPageSizeGivesTheSameResult()
    {
        string[] keys = ["logs/2024/a", "logs/2024/b", "logs/2025/a", "logs/x", "logs/y/z", "logsx", "other/a", "logs/2026/deep/er"];
        foreach (string key in keys)
        {
            await _store.PutAsync("bucket", key, Bytes(1));
        }

        for (int pageSize = 1; pageSize <= 6; pageSize++)
        {
            var entries = new List<string>();
            var prefixes = new List<string>();
            string? token = null;
            int pages = 0;
            do
            {
                ListPage page = await _store.ListPageAsync(new ListRequest("bucket", "logs/") { Delimiter = "/", MaxKeys = pageSize, ContinuationToken = token });
                Assert.InRange(page.Entries.Count + page.CommonPrefixes.Count, 0, pageSize);
                Assert.Equal(page.IsTruncated, page.NextContinuationToken is not null);
                entries.AddRange(page.Entries.Select(e => e.Key));
                prefixes.AddRange(page.CommonPrefixes);
                token = page.NextContinuationToken;
                Assert.True(++pages < 20, "listing did not end");
            }
            while (token is not null);

            Assert.Equal(["logs/x"], entries);
            Assert.Equal(["logs/2024/", "logs/2025/", "logs/2026/", "logs/y/"], prefixes);
        }
    }

    [Fact]
    public async Task ListPageAsync_StartAfter_SkipsUpToAndIncludingThatKey()
    {
        foreach (string key in new[] { "k1", "k2", "k3", "k4" })
        {
            await _store.PutAsync("bucket", key, Bytes(1));
        }

        ListPage page = await _store.ListPageAsync(new ListRequest("bucket") { StartAfter = "k2" });
        ListPage between = await _store.ListPageAsync(new ListRequest("bucket") { StartAfter = "k2a" });

        Assert.Equal(["k3", "k4"], page.Entries.Select(e => e.Key));
        Assert.Equal(["k3", "k4"], between.Entries.Select(e => e.Key));
        Assert.False(page.IsTruncated);
        Assert.Null(page.NextContinuationToken);
    }

    [Fact]
    public async Task ListPageAsync_EntriesCarrySizeAndETagOfHead()
    {
        PutResult put = await _store.PutAsync("bucket", "dir/obj", Bytes(123));

        ListEntry entry = Assert.Single((await _store.ListPageAsync(new ListRequest("bucket", "dir/"))).Entries);

        Assert.Equal(123, entry.Size);
        Assert.Equal(put.ETag, entry.ETag);
    }

    [Fact]
    public async Task ListPageAsync_MaxKeysAbove1000_CappedAt1000()
    {
        for (int i = 0; i < 1001; i++)
        {
            await _store.PutAsync("bucket", $"k{i:D5}", ReadOnlyMemory<byte>.Empty);
        }

        ListPage page = await _store.ListPageAsync(new ListRequest("bucket") { MaxKeys = 5000 });

        Assert.Equal(1000, page.Entries.Count);
        Assert.True(page.IsTruncated);
    }

    [Fact]
    public async Task ListPageAsync_BadContinuationToken_ArgumentException()
    {
        await _store.PutAsync("bucket", "k", Bytes(1));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.ListPageAsync(new ListRequest("bucket") { ContinuationToken = "!!not-a-token" }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.ListPageAsync(new ListRequest("bucket") { ContinuationToken = "eA" }));
    }

    [Fact]
    public async Task ListPageAsync_StagedWritesAndUploads_NeverListed()
    {
        await _store.PutAsync("bucket", "visible", Bytes(1));
        string uploadId = await _store.InitiateMultipartAsync("bucket", "pending");
        await _store.UploadPartAsync("bucket", "pending", uploadId, 1, Bytes(10));

        ListPage page = await _store.ListPageAsync(new ListRequest("bucket"));

        Assert.Equal(["visible"], page.Entries.Select(e => e.Key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.ListPageAsync(new ListRequest(".uploads")));
    }

    [Fact]
    public async Task Multipart_Complete_ConcatenatesPartsInOrderAndCleansUp()
    {
        byte[] p1 = Bytes(1000, 1), p2 = Bytes(500, 2), p3 = Bytes(7, 3);
        string uploadId = await _store.InitiateMultipartAsync("bucket", "big");
        // Out of order and with a retried part, as concurrent uploaders do.
        UploadedPart u3 = await _store.UploadPartAsync("bucket", "big", uploadId, 3, p3);
        await _store.UploadPartAsync("bucket", "big", uploadId, 1, Bytes(1000, 9));
        UploadedPart u1 = await _store.UploadPartAsync("bucket", "big", uploadId, 1, p1);
        UploadedPart u2 = await _store.UploadPartAsync("bucket", "big", uploadId, 2, p2);

        Assert.False(File.Exists(Path.Join(_rootPath, "bucket", "big")), "object visible before completion");
        PutResult put = await _store.CompleteMultipartAsync("bucket", "big", uploadId, [u1, u2, u3]);

        ObjectMetadata head = await _store.HeadAsync("bucket", "big");
        Assert.Equal(put.ETag, head.ETag);
        var all = new byte[1507];
        await _store.ReadRangeAsync("bucket", "big", put.ETag, 0, all);
        Assert.Equal([.. p1, .. p2, .. p3], all);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(_rootPath, ".uploads")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(_rootPath, ".staging")));
        await Assert.ThrowsAsync<UploadNotFoundException>(() => _store.CompleteMultipartAsync("bucket", "big", uploadId, [u1, u2, u3]));
    }

    [Fact]
    public async Task Multipart_Abort_RemovesPartsAndNoObjectAppears()
    {
        string uploadId = await _store.InitiateMultipartAsync("bucket", "big");
        UploadedPart part = await _store.UploadPartAsync("bucket", "big", uploadId, 1, Bytes(10));

        await _store.AbortMultipartAsync("bucket", "big", uploadId);
        await _store.AbortMultipartAsync("bucket", "big", uploadId);

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(_rootPath, ".uploads")));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.HeadAsync("bucket", "big"));
        await Assert.ThrowsAsync<UploadNotFoundException>(() => _store.CompleteMultipartAsync("bucket", "big", uploadId, [part]));
    }

    [Fact]
    public async Task Multipart_CompleteWithStaleOrMissingOrUnorderedParts_ArgumentException()
    {
        string uploadId = await _store.InitiateMultipartAsync("bucket", "big");
        UploadedPart stale = await _store.UploadPartAsync("bucket", "big", uploadId, 1, Bytes(10, 1));
        UploadedPart fresh = await _store.UploadPartAsync("bucket", "big", uploadId, 1, Bytes(10, 2));
        UploadedPart two = await _store.UploadPartAsync("bucket", "big", uploadId, 2, Bytes(10, 3));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.CompleteMultipartAsync("bucket", "big", uploadId, [stale, two]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.CompleteMultipartAsync("bucket", "big", uploadId, [two, fresh]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.CompleteMultipartAsync("bucket", "big", uploadId, [fresh, two, new UploadedPart(3, "\"x\"", 1)]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.CompleteMultipartAsync("bucket", "big", uploadId, []));
        await Assert.ThrowsAsync<UploadNotFoundException>(() => _store.CompleteMultipartAsync("bucket", "other", uploadId, [fresh, two]));

        PutResult put = await _store.CompleteMultipartAsync("bucket", "big", uploadId, [fresh, two]);
        Assert.Equal(20, (await _store.HeadAsync("bucket", "big")).Size);
        Assert.NotEmpty(put.ETag);
    }

    [Fact]
    public async Task Multipart_CreateOnlyOnExisting_CompleteThrowsAlreadyExists()
    {
        await _store.PutAsync("bucket", "obj", Bytes(5));
        string uploadId = await _store.InitiateMultipartAsync("bucket", "obj", new PutOptions { CreateOnly = true });
        UploadedPart part = await _store.UploadPartAsync("bucket", "obj", uploadId, 1, Bytes(10));

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => _store.CompleteMultipartAsync("bucket", "obj", uploadId, [part]));
        Assert.Equal(5, (await _store.HeadAsync("bucket", "obj")).Size);
    }

    [Theory]
    [InlineData("../../etc")]
    [InlineData("0123456789abcdef0123456789abcdeg")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("")]
    public async Task Multipart_ForeignUploadId_Refused(string uploadId)
    {
        await Assert.ThrowsAsync<UploadNotFoundException>(() => _store.UploadPartAsync("bucket", "k", uploadId, 1, Bytes(1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.AbortMultipartAsync("bucket", "k", uploadId));
    }

    [Fact]
    public void Name_NamesTheRoot()
    {
        Assert.Equal("local:" + Path.GetFullPath(_rootPath), _store.Name);
    }

    private async Task<List<string>> ListAll(ListRequest first)
    {
        var keys = new List<string>();
        ListRequest request = first;
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages < 1000, "listing did not end");
            ListPage page = await _store.ListPageAsync(request);
            keys.AddRange(page.Entries.Select(e => e.Key));
            if (!page.IsTruncated)
            {
                return keys;
            }
            request = first with { ContinuationToken = page.NextContinuationToken };
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
