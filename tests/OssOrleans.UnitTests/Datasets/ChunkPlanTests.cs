using System.Text;
using OssOrleans.Client.Datasets;
using OssOrleans.Client.Datasets.Tar;

namespace OssOrleans.UnitTests.Datasets;

public sealed class ChunkPlanTests
{
    [Theory]
    [InlineData(1000, 1, 1, 64, false, false)]
    [InlineData(1000, 2, 2, 64, true, false)]
    [InlineData(997, 3, 4, 10, true, true)]
    [InlineData(5, 4, 2, 64, true, true)]
    [InlineData(20_000, 8, 4, 100, true, true)]
    public void ForShard_EveryItemExactlyOncePerEpochAcrossShards(int count, int world, int workers, int chunk, bool shuffle, bool vary)
    {
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var seen = new int[count];
            for (int rank = 0; rank < world; rank++)
            {
                for (int worker = 0; worker < workers; worker++)
                {
                    var o = Options(rank, world, worker, workers, chunk, shuffle, seed: 7);
                    foreach (var c in ChunkPlan.ForShard(count, o, vary, epoch))
                    {
                        for (int i = 0; i < c.Count; i++)
                            seen[c.ItemAt(i)]++;
                    }
                }
            }
            Assert.All(seen, n => Assert.Equal(1, n));
        }
    }

    [Fact]
    public void ForShard_SameSeedAndEpoch_SameOrder_OtherEpochOrSeed_Differs()
    {
        var a = Order(seed: 1, epoch: 3);
        Assert.Equal(a, Order(seed: 1, epoch: 3));
        Assert.NotEqual(a, Order(seed: 1, epoch: 4));
        Assert.NotEqual(a, Order(seed: 2, epoch: 3));
        Assert.NotEqual(Enumerable.Range(0, a.Count), a);

        static List<int> Order(int seed, int epoch) =>
            ChunkPlan.ForShard(5000, Options(0, 1, 0, 1, 50, shuffle: true, seed), true, epoch).SelectMany(c => Enumerable.Range(0, c.Count).Select(c.ItemAt)).ToList();
    }

    [Fact]
    public void ForShard_Order_IsPinned()
    {
        // The order is part of the contract (a resumed job must replay it), so SplitMix64 is spelled out instead of
        // System.Random; these values were computed independently (in Python) from the same definition.
        var chunks = ChunkPlan.ForShard(100, Options(0, 1, 0, 1, 10, shuffle: true, seed: 42), false, 0);
        Assert.Equal([10, 0, 90, 20, 60, 40, 50, 30, 80, 70], chunks.Select(c => c.Start));
        Assert.Equal([10, 13, 19, 14, 16, 15, 18, 11, 17, 12], Enumerable.Range(0, 10).Select(chunks[0].ItemAt));
    }

    [Fact]
    public void Cut_GaussianSizes_AreContiguousVariedAndBounded()
    {
        var chunks = ChunkPlan.Cut(100_000, 64, 0.25, seed: 9, epoch: 0);
        int next = 0;
        foreach (var c in chunks)
        {
            Assert.Equal(next, c.Start);
            Assert.InRange(c.Count, 1, 3 * 64);
            next += c.Count;
        }
        Assert.Equal(100_000, next);
        var sizes = chunks.SkipLast(1).Select(c => (double)c.Count).ToList();
        double mean = sizes.Average(), sd = Math.Sqrt(sizes.Sum(s => (s - mean) * (s - mean)) / sizes.Count);
        Assert.InRange(mean, 60, 68);
        Assert.InRange(sd, 12, 20);
    }

    [Fact]
    public void Cut_NoDeviation_FixedSizes()
    {
        var chunks = ChunkPlan.Cut(130, 64, 0, 1, 1);
        Assert.Equal([64, 64, 2], chunks.Select(c => c.Count));
    }

    [Theory]
    [InlineData("a.jpg\tcat", "a.jpg", "cat")]
    [InlineData("dir/b.jpg", "dir/b.jpg", null)]
    [InlineData("c.jpg\t\r", "c.jpg", null)]
    public void TabSeparated_ParsesKeyAndLabel(string line, string key, string? label)
    {
        var e = ManifestParser.TabSeparated.Parse(line);
        Assert.Equal(new ManifestEntry(key, label), e);
    }

    [Theory]
    [InlineData("a.jpg   7", "a.jpg", "7")]
    [InlineData("b.jpg", "b.jpg", null)]
    public void SpaceSeparated_ParsesKeyAndLabel(string line, string key, string? label)
    {
        Assert.Equal(new ManifestEntry(key, label), ManifestParser.SpaceSeparated.Parse(line));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# comment")]
    [InlineData("   ")]
    public void Parsers_SkipBlankAndCommentLines(string line)
    {
        Assert.Null(ManifestParser.TabSeparated.Parse(line));
        Assert.Null(ManifestParser.SpaceSeparated.Parse(line));
    }

    [Fact]
    public async Task TarIndex_RoundTrips()
    {
        var members = new[] { new TarMember("a.bin", 512, 10), new TarMember("dir/ü b.bin", 2048, 0) };
        var ms = new MemoryStream();
        await TarIndex.WriteAsync(members.ToAsyncEnumerable(), ms);
        Assert.StartsWith(TarIndex.Header + "\n512\t10\ta.bin\n", Encoding.UTF8.GetString(ms.ToArray()), StringComparison.Ordinal);
        ms.Position = 0;
        var back = new List<TarMember>();
        await foreach (var m in TarIndex.ReadAsync(ms, tarSize: 4096))
            back.Add(m);
        Assert.Equal(members, back);
    }

    [Theory]
    [InlineData("512\t10", "expected")]
    [InlineData("-1\t10\ta", "non-negative")]
    [InlineData("x\t10\ta", "non-negative")]
    [InlineData("0\t99999999999999999999\ta", "non-negative")]
    [InlineData("0\t10\t../a", "'..' in path")]
    [InlineData("0\t10\t/etc/passwd", "absolute path")]
    [InlineData("4000\t200\ta", "outside")]
    public async Task TarIndex_BadLine_ThrowsWithLineNumber(string line, string reason)
    {
        var ms = new MemoryStream(Encoding.UTF8.GetBytes(TarIndex.Header + "\n0\t1\tfine\n" + line + "\n"));
        var ex = await Assert.ThrowsAsync<TarFormatException>(async () =>
        {
            await foreach (var _ in TarIndex.ReadAsync(ms, tarSize: 4096))
            {
            }
        });
        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TarIndex_WithoutHeader_IsRejected()
    {
        var ms = new MemoryStream("0\t1\ta\n"u8.ToArray());
        await Assert.ThrowsAsync<TarFormatException>(async () =>
        {
            await foreach (var _ in TarIndex.ReadAsync(ms))
            {
            }
        });
    }

    [Fact]
    public void DatasetKeys_DifferForDifferentPartsAndSplits()
    {
        Assert.Equal(DatasetKeys.ForSource("prefix", "oss://b/p/"), DatasetKeys.ForSource("prefix", "oss://b/p/"));
        Assert.NotEqual(DatasetKeys.ForSource("ab", "c"), DatasetKeys.ForSource("a", "bc"));
        Assert.NotEqual(DatasetKeys.ForSource("prefix", "oss://b/p/", ""), DatasetKeys.ForSource("prefix", "oss://b/p/", "epoch-2"));
    }

    [Fact]
    public void Options_Validate_NamesTheBadOption()
    {
        var o = new DatasetOptions { Rank = 2, WorldSize = 2 };
        var ex = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains("Rank", ex.Message, StringComparison.Ordinal);
    }

    private static DatasetOptions Options(int rank, int world, int worker, int workers, int chunk, bool shuffle, int seed) => new()
    {
        Rank = rank,
        WorldSize = world,
        WorkerId = worker,
        WorkerCount = workers,
        ChunkSize = chunk,
        Shuffle = shuffle,
        Seed = seed,
    };
}
