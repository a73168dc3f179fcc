namespace OssOrleans.ClusterTests.Listing;

/// <summary>
/// Property-style exactness over generated keyspaces: a fast list returns exactly the keys of a plain list, which are
/// exactly the simulator's own keys under the prefix; sorted fast lists and one-level (delimiter) listings too.
/// </summary>
[Collection(ListingCollection.Name)]
public sealed class FastListExactnessTests(ListingFixture fixture)
{
    private ListingFixture F => fixture;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task FastList_DeepTree_EqualsPlainListAndOriginKeys(int seed)
    {
        string bucket = F.Bucket($"list-deep-{seed}", Keyspaces.DeepTree("t/", seed, 6000));
        await AssertExactAsync(bucket, "t/", minPartitions: 8);
    }

    [Fact]
    public async Task FastList_FlatDirectory_EqualsPlainListAndOriginKeys()
    {
        string bucket = F.Bucket("list-flat", Keyspaces.Flat("f/", seed: 3, counters: 12_000, hex: 3000));
        await AssertExactAsync(bucket, "f/", minPartitions: 8);
    }

    [Fact]
    public async Task FastList_SkewedLayout_EqualsPlainListAndOriginKeys()
    {
        string bucket = F.Bucket("list-skewed", Keyspaces.Skewed("s/", seed: 4, huge: 8000, small: 1500));
        await AssertExactAsync(bucket, "s/", minPartitions: 8);
        // Inside the huge directory only, and at the bucket root.
        await AssertExactAsync(bucket, "s/m-huge/", minPartitions: 4);
        await AssertExactAsync(bucket, "", minPartitions: 4);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task FastList_AwkwardKeys_EqualsPlainListAndOriginKeys(int seed)
    {
        string bucket = F.Bucket($"list-awkward-{seed}", Keyspaces.Awkward("w/", seed, 3000));
        await AssertExactAsync(bucket, "w/", minPartitions: 4);
        await AssertExactAsync(bucket, "w/x", minPartitions: 1);
    }

    [Fact]
    public async Task FastList_PrefixWithoutMatch_ReturnsNothing()
    {
        string bucket = F.Bucket("list-nomatch", Keyspaces.Flat("f/", seed: 7, counters: 500, hex: 0));
        foreach (bool fast in new[] { true, false })
        {
            var (entries, _) = await F.Cluster.Client.ListAsync($"oss://{bucket}/g/", fast);
            Assert.Empty(entries);
            var (oneLevel, _) = await F.Cluster.Client.ListAsync($"oss://{bucket}/f/zzz", fast, delimiter: "/");
            Assert.Empty(oneLevel);
        }
    }

    [Fact]
    public async Task FastList_PrefixThatIsAKey_ListsTheKeyAndEverythingAfterIt()
    {
        var keys = new List<string> { "p/a", "p/a-1", "p/a/", "p/a/b", "p/a0", "p/ab/c", "p/a\u00e9", "p/b" };
        keys.AddRange(Enumerable.Range(0, 2000).Select(i => $"p/a/{i:D5}"));
        keys.AddRange(Enumerable.Range(0, 500).Select(i => $"p/ab/{i:D4}"));
        string bucket = F.Bucket("list-prefix-key", Keyspaces.Sorted(keys));
        var expected = await AssertExactAsync(bucket, "p/a", minPartitions: 2);
        Assert.Contains("p/a", expected);
        Assert.DoesNotContain("p/b", expected);
    }

    [Fact]
    public async Task FastList_OneLevelWithDelimiter_EqualsPlainAndS3Semantics()
    {
        // A huge level (6000 files and 3000 directories) so the one-level listing splits by key range too.
        var keys = new List<string>();
        keys.AddRange(Enumerable.Range(0, 6000).Select(i => $"lvl/file-{i:D5}"));
        keys.AddRange(Enumerable.Range(0, 3000).Select(i => $"lvl/dir-{i:D5}/x"));
        keys.AddRange(Enumerable.Range(0, 3000).Select(i => $"lvl/dir-{i:D5}/y/z"));
        keys.Add("lvl/dir-00001");
        string bucket = F.Bucket("list-level", Keyspaces.Sorted(keys));
        var expected = ListingHelpers.OneLevel(F.Origin.Keys(bucket, "lvl/"), "lvl/", "/");

        var (plain, _) = await F.Cluster.Client.ListAsync($"oss://{bucket}/lvl/", fast: false, delimiter: "/");
        var (fast, partitions) = await F.Cluster.Client.ListAsync($"oss://{bucket}/lvl/", fast: true, delimiter: "/");
        var (sorted, _) = await F.Cluster.Client.ListAsync($"oss://{bucket}/lvl/", fast: true, sorted: true, delimiter: "/");

        Assert.Equal(expected, plain.Select(e => e.Key));
        Assert.Equal(expected, sorted.Select(e => e.Key));
        Assert.Equal(expected.Count, fast.Count);
        Assert.Equal(expected.ToHashSet(StringComparer.Ordinal), fast.Select(e => e.Key).ToHashSet(StringComparer.Ordinal));
        Assert.All(fast, e => Assert.Equal(e.Key.EndsWith('/'), e.IsPrefix));
        Assert.True(partitions >= 4, $"a 9000-entry level over 50-key pages should split; read {partitions} partitions");
    }

    [Fact]
    public async Task FastList_Entries_CarrySizeETagAndTime()
    {
        F.Origin.CreateBucket("list-meta");
        var put = F.Origin.PutObject("list-meta", "m/one.bin", new byte[1234]);
        var (entries, _) = await F.Cluster.Client.ListAsync("oss://list-meta/m/", fast: true);
        var entry = Assert.Single(entries);
        Assert.Equal(("m/one.bin", 1234L, put.ETag, false), (entry.Key, entry.Size, entry.ETag, entry.IsPrefix));
        Assert.True(Math.Abs((entry.LastModified - put.LastModified).TotalSeconds) < 2, $"last modified {entry.LastModified} vs {put.LastModified}");
    }

    // Plain, fast (unordered) and fast sorted lists against the origin's own keys; returns the expected keys.
    private async Task<List<string>> AssertExactAsync(string bucket, string prefix, int minPartitions)
    {
        var expected = F.Origin.Keys(bucket, prefix).ToList();
        string uri = $"oss://{bucket}/{prefix}";
        var (plain, plainPartitions) = await F.Cluster.Client.ListAsync(uri, fast: false);
        var (fast, partitions) = await F.Cluster.Client.ListAsync(uri, fast: true);
        var (sorted, _) = await F.Cluster.Client.ListAsync(uri, fast: true, sorted: true);

        Assert.Equal(expected, plain.Select(e => e.Key));
        Assert.Equal(1, plainPartitions);
        Assert.Equal(expected, sorted.Select(e => e.Key));
        // Same multiset: equal counts and equal sets, so nothing is missing and nothing comes twice.
        Assert.Equal(expected.Count, fast.Count);
        var missing = expected.Except(fast.Select(e => e.Key), StringComparer.Ordinal).Take(5).ToList();
        Assert.True(missing.Count == 0, $"fast list of {uri} misses {string.Join(", ", missing)}");
        Assert.True(partitions >= minPartitions, $"fast list of {uri} ({expected.Count} keys) read {partitions} partitions, expected at least {minPartitions}");
        return expected;
    }
}
