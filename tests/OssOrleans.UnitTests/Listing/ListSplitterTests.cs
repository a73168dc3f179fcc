using OssOrleans.ClusterTests.Listing;
using OssOrleans.Grains.Listing;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Listing;

/// <summary>
/// Property-style tests of the split math: boundaries always lie strictly inside the remainder and ascend; in a one-level
/// listing they never cut through a common prefix; and whole partition trees, run by the real lister over an in-memory
/// S3, return every key exactly once.
/// </summary>
public sealed class ListSplitterTests
{
    public static TheoryData<string, int> Keyspaces_ => new()
    {
        { "deep", 1 }, { "deep", 2 }, { "flat", 3 }, { "skewed", 4 }, { "awkward", 5 }, { "awkward", 6 }, { "counter", 7 },
    };

    private static (List<string> Keys, string Prefix) Keyspace(string kind, int seed) => kind switch
    {
        "deep" => (Keyspaces.DeepTree("t/", seed, 5000), "t/"),
        "flat" => (Keyspaces.Flat("f/", seed, counters: 6000, hex: 2000), "f/"),
        "skewed" => (Keyspaces.Skewed("s/", seed, huge: 5000, small: 800), "s/"),
        "awkward" => (Keyspaces.Awkward("w/", seed, 3000), "w/"),
        "counter" => (Keyspaces.Sorted(Enumerable.Range(0, 20_000).Select(i => $"c/{i}")), "c/"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(Keyspaces_))]
    public void Boundaries_RandomPagesAndEnds_AscendStrictlyInsideTheRemainder(string kind, int seed)
    {
        var (keys, prefix) = Keyspace(kind, seed);
        var random = new Random(seed);
        for (int round = 0; round < 200; round++)
        {
            int first = random.Next(keys.Count - 2);
            int count = Math.Min(keys.Count - first - 1, random.Next(2, 200));
            var page = keys.GetRange(first, count);
            string last = page[^1];
            string? end = random.Next(3) == 0 ? null : keys[random.Next(first + count, keys.Count)];
            if (end == last)
                end = null;
            var probes = ListSplitter.ProbeLevels(prefix, last, end)
                .Select(level => new DirectoryProbe(level, OneLevelAfter(keys, level, last).Take(50).ToList(), Truncated: random.Next(2) == 0)).ToList();
            foreach (string? delimiter in new[] { null, "/" })
            {
                var bounds = ListSplitter.Boundaries(new SplitInput(prefix, delimiter, page, end, delimiter is null ? probes : [], 20, 16, random.Next(2) * 1000));
                string previous = last;
                foreach (var b in bounds)
                {
                    Assert.True(KeyOrder.Compare(b, previous) > 0, $"boundary '{b}' does not follow '{previous}'");
                    Assert.True(end is null || KeyOrder.Compare(b, end) < 0, $"boundary '{b}' is not before the end '{end}'");
                    Assert.StartsWith(prefix, b, StringComparison.Ordinal);
                    if (delimiter is not null)
                        Assert.True(b.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) < 0, $"boundary '{b}' cuts through a common prefix");
                    previous = b;
                }
                Assert.True(bounds.Count <= 16);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Keyspaces_))]
    public async Task PartitionTree_GeneratedKeyspace_ListsEveryKeyOnce(string kind, int seed)
    {
        var (keys, prefix) = Keyspace(kind, seed);
        var store = new InMemoryListStore(keys);
        var result = await PartitionTree.ListAsync(store, new ListPartitionKey("bkt", prefix, null, fast: true), pageSize: 50);
        Assert.Equal(keys, result.Entries.Select(e => e.Key));
        Assert.True(result.Partitions >= 4, $"{keys.Count} keys in pages of 50 split into only {result.Partitions} partition(s)");
        // Requests beyond one per page: partition ends and directory probes.
        Assert.True(store.Requests < 2.0 * keys.Count / 50 + 20, $"{store.Requests} requests for {keys.Count / 50} pages");
    }

    [Theory]
    [MemberData(nameof(Keyspaces_))]
    public async Task PartitionTree_OneLevelWithDelimiter_ListsEveryItemOnce(string kind, int seed)
    {
        var (keys, prefix) = Keyspace(kind, seed);
        var store = new InMemoryListStore(keys);
        var result = await PartitionTree.ListAsync(store, new ListPartitionKey("bkt", prefix, "/", fast: true), pageSize: 20);
        var expected = OneLevelAfter(keys, prefix, null).ToList();
        Assert.Equal(expected, result.Entries.Select(e => e.Key));
        Assert.All(result.Entries, e => Assert.Equal(e.Key.EndsWith('/') && e.Key.IndexOf('/', prefix.Length) == e.Key.Length - 1, e.IsPrefix));
    }

    [Fact]
    public async Task PartitionTree_PrefixThatIsAKeyAndRanges_ListsEveryKeyOnce()
    {
        var keys = Keyspaces.Sorted(new[] { "p", "p/", "p//", "p/a", "p0" }.Concat(Enumerable.Range(0, 3000).Select(i => $"p/{i:x5}")));
        var store = new InMemoryListStore(keys);
        var expected = keys.Where(k => KeyOrder.Compare(k, "p/00100") > 0 && KeyOrder.Compare(k, "p/00b00") <= 0).ToList();
        var result = await PartitionTree.ListAsync(store, new ListPartitionKey("bkt", "p", null, true, startAfter: "p/00100", endAt: "p/00b00"), pageSize: 30);
        Assert.Equal(expected, result.Entries.Select(e => e.Key));
    }

    [Fact]
    public void FlatTail_ZeroPaddedCounters_EstimatesABoundedRangeWithinAFactorOfTwo()
    {
        var keys = Enumerable.Range(0, 100_000).Select(i => $"img/{i:D7}.jpg").ToList();
        var page = keys.GetRange(0, 1000);
        string end = "img/0050000";
        var plan = ListSplitter.Plan(new SplitInput("img/", null, page, end, [], 4000, 16));
        double truth = keys.Count(k => KeyOrder.Compare(k, page[^1]) > 0 && KeyOrder.Compare(k, end) <= 0);
        Assert.InRange(plan.Total, truth / 2, truth * 2);
        // About equal shares of at least the smallest child (4000 keys), as the range is bounded; boundaries are whole
        // counter units (1000 or 10,000 keys here), so shares come in those steps.
        Assert.InRange(plan.Own, 3000, 5000);
        Assert.InRange(plan.Children.Count, 4, 16);
        Assert.All(plan.Children, c => Assert.InRange(c.Weight, 3000, 12_000));
    }

    [Fact]
    public void Plan_TreeWithProbes_WeighsDirectoriesByWhatThePageShowed()
    {
        // class/batch/file: 10 classes of 10 batches of 100 files; the page holds the first 10 batches of class 0.
        var keys = Enumerable.Range(0, 10_000).Select(i => $"t/c{i / 1000}/b{i / 100 % 10}/f{i % 100:D2}").ToList();
        var page = keys.GetRange(0, 1000);
        string last = page[^1];
        var levels = ListSplitter.ProbeLevels("t/", last, null);
        Assert.Equal(["t/", "t/c0/"], levels);
        var probes = levels.Select(l => new DirectoryProbe(l, OneLevelAfter(keys, l, last).ToList())).ToList();
        var plan = ListSplitter.Plan(new SplitInput("t/", null, page, null, probes, 1000, 16));
        Assert.InRange(plan.Total, 8000, 10_000);
        Assert.Contains(plan.Children, c => c.Bound == "t/c5/");
    }

    [Theory]
    [InlineData("t/", "t/a/b/c", null, new[] { "t/", "t/a/" })]
    [InlineData("t/", "t/a/b", null, new[] { "t/" })]
    [InlineData("t/", "t/x", null, new string[0])]
    [InlineData("t/", "t/a/b/c", "t/a/z/", new[] { "t/a/" })]
    [InlineData("t/", "t/a/b/c/d", "t/a/b/z", new[] { "t/a/b/" })]
    [InlineData("t/", "t/a/b/c", "t/a/b/z", new string[0])]
    public void ProbeLevels_PicksTheDirectoriesAboveTheLastKeysOwn(string prefix, string last, string? end, string[] expected) =>
        Assert.Equal(expected, ListSplitter.ProbeLevels(prefix, last, end));

    // What a "/" listing of a level returns after a key (keys, and common prefixes once), from sorted keys.
    private static IEnumerable<string> OneLevelAfter(List<string> keys, string level, string? after)
    {
        string? previous = null;
        foreach (var key in keys)
        {
            if (!key.StartsWith(level, StringComparison.Ordinal))
                continue;
            int slash = key.IndexOf('/', level.Length);
            string item = slash < 0 ? key : key[..(slash + 1)];
            if (after is not null && KeyOrder.Compare(item, after) <= 0)
                continue;
            if (item != previous)
                yield return item;
            previous = item;
        }
    }
}
