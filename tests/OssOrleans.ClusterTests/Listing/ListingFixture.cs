using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests.Listing;

/// <summary>
/// A 3-silo cluster whose partitions page 50 keys at a time, so keyspaces of a few thousand keys already split into
/// many partitions; list caching on (30 s by the fake clock).
/// </summary>
public sealed class ListingFixture : IAsyncLifetime
{
    public const int PageSize = 50;

    public TestCacheCluster Cluster { get; private set; } = null!;

    public OriginSimulator Origin => Cluster.Origin;

    public async Task InitializeAsync() => Cluster = await TestCacheCluster.StartAsync(silos: 3, cache: o => o.ListPageSize = PageSize);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Creates a bucket holding <paramref name="keys"/> (one shared 1-byte body) and returns it.</summary>
    public string Bucket(string name, IEnumerable<string> keys)
    {
        Origin.CreateBucket(name);
        Origin.PutSharedObjects(name, keys, [42]);
        return name;
    }
}

[CollectionDefinition(Name)]
public sealed class ListingCollection : ICollectionFixture<ListingFixture>
{
    public const string Name = "Listing";
}

internal static class ListingHelpers
{
    public static async Task<List<ObjectEntry>> ToListAsync(this IAsyncEnumerable<ObjectEntry> source)
    {
        var list = new List<ObjectEntry>();
        await foreach (var e in source)
            list.Add(e);
        return list;
    }

    /// <summary>Lists with the given options and returns the entries and the partitions the client read.</summary>
    public static async Task<(List<ObjectEntry> Entries, int Partitions)> ListAsync(this OssCacheClient client, string uri, bool fast, bool sorted = false, string? delimiter = null)
    {
        int partitions = 0;
        var options = new ListOptions { Fast = fast, Sorted = sorted, Delimiter = delimiter, OnPartition = _ => Interlocked.Increment(ref partitions) };
        var entries = await client.ListAsync(uri, options).ToListAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (entries, partitions);
    }

    /// <summary>What S3 returns for a one-level listing of <paramref name="prefix"/> over <paramref name="keys"/> (ascending).</summary>
    public static List<string> OneLevel(IEnumerable<string> keys, string prefix, string delimiter)
    {
        var result = new List<string>();
        foreach (var key in keys)
        {
            int at = key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            string item = at < 0 ? key : key[..(at + delimiter.Length)];
            if (result.Count == 0 || result[^1] != item)
                result.Add(item);
        }
        return result;
    }
}
