using OssOrleans.Grains.Listing;
using OssOrleans.Grains.Security;

namespace OssOrleans.UnitTests.Security;

public sealed class ListVisibilityFilterTests
{
    private static readonly Tenant TeamA = new TenantRegistry(new AuthOptions
    {
        Tenants = [new TenantOptions { AccessKeyId = "team-a", Secret = "0123456789abcdef", Grants = ["read,list oss://data/team-a/"] }],
    }).Tenants.Single();

    private static ListChunk Chunk(ListPartitionKey[] children, params (string Key, bool IsPrefix)[] entries)
    {
        var writer = new ListEntryWriter();
        foreach (var (key, isPrefix) in entries)
            writer.Add(key, isPrefix ? 0 : 10, isPrefix ? "" : "\"e\"", isPrefix ? default : DateTimeOffset.UnixEpoch, isPrefix);
        var packed = writer.ToChunk();
        return new ListChunk(packed.PackedEntries, packed.Count, children, packed.LastKey);
    }

    private static async IAsyncEnumerable<ListChunk> Of(params ListChunk[] chunks)
    {
        foreach (var c in chunks)
        {
            await Task.Yield();
            yield return c;
        }
    }

    [Fact]
    public async Task Filter_KeepsOnlyVisibleEntries_ReadsChildrenItself_AndNeverLeaksAnotherTenantsName()
    {
        var root = new ListPartitionKey("data", "", null, fast: true);
        // Bounds like a directory probe makes them: names of other tenants' directories.
        var own = root.WithRange("team-", "team-b/");
        var theirs = root.WithRange("team-b/", "team-c/");
        var read = new List<ListPartitionKey>();
        var children = new Dictionary<ListPartitionKey, ListChunk[]>
        {
            [own] = [Chunk([], ("team-a/y", false), ("team-a/z", false))],
            [theirs] = [Chunk([], ("team-b/secret", false))],
        };
        IAsyncEnumerable<ListChunk> ReadChild(ListPartitionKey k)
        {
            read.Add(k);
            return Of(children[k]);
        }

        var chunks = await ListVisibilityFilter.FilterAsync(Of(
            Chunk([own, theirs], ("readme.txt", false), ("team-a/", true), ("team-a/x", false), ("team-b/y", false)),
            Chunk([], ("team-b/z", false))), TeamA, root, ReadChild).ToListAsync();

        Assert.Equal(["team-a/", "team-a/x", "team-a/y", "team-a/z"], chunks.SelectMany(c => c.ReadEntries()).Select(e => e.Key));
        Assert.All(chunks, c => Assert.Empty(c.Children));
        Assert.All(chunks, c => Assert.StartsWith("team-a/", c.LastKey, StringComparison.Ordinal));
        // The child that cannot hold a visible key is not even read.
        Assert.Equal([own], read);
    }

    [Fact]
    public async Task Filter_KeepsKeyOrder_WhenSplitsAreAnnouncedBeforeTheRestOfThePartition()
    {
        // As the lister sends them: the first page, a split of the rest of the range (the partition keeps up to
        // team-a/m), more of its own entries, a second split of what it kept (children before the first ones), and the
        // entries up to that second split's first bound.
        var root = new ListPartitionKey("data", "", null, fast: true);
        var late1 = root.WithRange("team-a/m", "team-a/t");
        var late2 = root.WithRange("team-a/t", null);
        var early = root.WithRange("team-a/f", "team-a/m");
        var children = new Dictionary<ListPartitionKey, ListChunk[]>
        {
            [late1] = [Chunk([], ("team-a/p", false), ("team-a/s", false))],
            [late2] = [Chunk([], ("team-a/u", false), ("team-b/v", false))],
            [early] = [Chunk([], ("team-a/g", false), ("team-a/k", false))],
        };

        var chunks = await ListVisibilityFilter.FilterAsync(Of(
            Chunk([], ("readme.txt", false), ("team-a/a", false)),
            Chunk([late1, late2]),
            Chunk([], ("team-a/c", false)),
            Chunk([early]),
            Chunk([], ("team-a/e", false))), TeamA, root, k => Of(children[k])).ToListAsync();

        Assert.Equal(["team-a/a", "team-a/c", "team-a/e", "team-a/g", "team-a/k", "team-a/p", "team-a/s", "team-a/u"],
            chunks.SelectMany(c => c.ReadEntries()).Select(e => e.Key));
    }

    [Theory]
    [InlineData(null, null, true)]
    [InlineData("team-a/m", null, true)]
    [InlineData("team-a/", "team-a/k", true)]
    [InlineData("team-b/", null, false)]
    [InlineData(null, "team-", false)]
    [InlineData("team-", "team-a/", true)]
    [InlineData("a", "b", false)]
    public void MayHoldVisibleKeys_RangesOfTheBucketRoot(string? startAfter, string? endAt, bool expected)
    {
        var child = new ListPartitionKey("data", "", null, fast: true, startAfter, endAt);
        Assert.Equal(expected, ListVisibilityFilter.MayHoldVisibleKeys(TeamA, child));
    }
}
