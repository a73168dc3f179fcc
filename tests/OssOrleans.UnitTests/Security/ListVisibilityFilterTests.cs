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
    public async Task Filter_KeepsOnlyVisibleEntriesAndChildren_AndNeverLeaksAnotherTenantsKeyAsTheResumePoint()
    {
        var root = new ListPartitionKey("data", "", null, fast: true);
        var own = root.WithRange("team-", "team-a/zzz");
        var theirs = root.WithRange("team-b/", "team-b/zzz");
        var chunks = await ListVisibilityFilter.FilterAsync(Of(
            Chunk([own, theirs], ("readme.txt", false), ("team-a/", true), ("team-a/x", false), ("team-b/y", false)),
            Chunk([], ("team-b/z", false))), TeamA, root).ToListAsync();

        var only = Assert.Single(chunks);
        Assert.Equal(["team-a/", "team-a/x"], only.ReadEntries().Select(e => e.Key));
        Assert.Equal("team-a/x", only.LastKey);
        Assert.Equal([own], only.Children);
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
