using System.Security.Cryptography;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>
/// A real silo process (the executable, as users run it) over the origin simulator, serving the S3 gateway on a free
/// loopback port with no tenants, and a .NET client of the same cluster: what the real S3 clients write and read is
/// checked against the origin's bytes and against the .NET client.
/// </summary>
public sealed class GatewaySiloFixture : IAsyncLifetime
{
    public const string Bucket = "gw-tests";

    /// <summary>Keys put at the origin for listing tests: 1,200 keys in four directories and a few at the top (pages of 1000 and fewer).</summary>
    public static readonly string[] ListingKeys =
        [.. Enumerable.Range(0, 1200).Select(i => $"listing/d{i % 4}/k{i:D4}.bin"), .. Enumerable.Range(0, 5).Select(i => $"listing/top{i}.txt")];

    private DirectoryInfo? _work;

    public OriginSimulator Origin { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public OssCacheClient Client { get; private set; } = null!;

    /// <summary>The S3 endpoint, http://127.0.0.1:port.</summary>
    public string Endpoint { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("oss-gateway-it-");
        Origin = await OriginSimulator.StartNewAsync(null, Bucket);
        Origin.PutSharedObjects(Bucket, ListingKeys, [7, 7, 7]);
        Silo = await SiloProcess.StartAsync([
            "--Origin:Kind=S3", $"--Origin:S3:Endpoint={Origin.Endpoint}",
            "--Origin:S3:AccessKeyId=sim", "--Origin:S3:AccessKeySecret=sim-secret",
            $"--Cache:CapacityBytes={512L << 20}",
            "--Cluster:ClusterId=gateway-it",
            "--Logging:LogLevel:Default=Warning",
        ], _work.FullName);
        Endpoint = Silo.S3Url ?? throw new InvalidOperationException($"the silo printed no S3 gateway address:\n{Silo.Output}");
        var options = new OssClientOptions { ClusterId = "gateway-it" };
        options.Gateways.Clear();
        options.Gateways.Add(Silo.Gateway);
        Client = await OssCacheClient.ConnectAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (Client is not null)
            await Client.DisposeAsync();
        if (Silo is not null)
            await Silo.DisposeAsync();
        if (Origin is not null)
            await Origin.DisposeAsync();
        _work?.Delete(recursive: true);
    }

    /// <summary>A local file of random bytes in <paramref name="directory"/>; returns its path and bytes.</summary>
    public static (string Path, byte[] Bytes) RandomFile(string directory, string name, int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        string path = System.IO.Path.Combine(directory, name);
        File.WriteAllBytes(path, data);
        return (path, data);
    }

    /// <summary>The origin holds exactly <paramref name="expected"/> at <paramref name="key"/>, and the .NET client reads the same.</summary>
    public async Task AssertStoredAsync(string key, byte[] expected)
    {
        var stored = Origin.GetObjectBytes(Bucket, key);
        Assert.True(stored is not null, $"the origin has no object {key}");
        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(stored));
        await using var stream = await Client.OpenReadAsync($"oss://{Bucket}/{key}");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(copy.ToArray()));
    }

    /// <summary>What the .NET client lists under <paramref name="prefix"/> (keys, and common prefixes with a delimiter), sorted.</summary>
    public async Task<List<string>> ClientListingAsync(string prefix, string? delimiter = null)
    {
        var keys = new List<string>();
        await foreach (var e in Client.ListAsync($"oss://{Bucket}/{prefix}", new ListOptions { Delimiter = delimiter }))
            keys.Add(e.Key);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <summary>The listing a tool printed matches the origin and the .NET client, with and without a delimiter.</summary>
    public async Task AssertListingAsync(IEnumerable<string> recursive, IEnumerable<string> oneLevel)
    {
        var expected = Origin.Keys(Bucket, "listing/").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, recursive.Order(StringComparer.Ordinal));
        Assert.Equal(await ClientListingAsync("listing/"), expected);
        var level = await ClientListingAsync("listing/", "/");
        Assert.Equal(["listing/d0/", "listing/d1/", "listing/d2/", "listing/d3/", .. Enumerable.Range(0, 5).Select(i => $"listing/top{i}.txt")], level);
        Assert.Equal(level, oneLevel.Order(StringComparer.Ordinal));
    }
}

[CollectionDefinition(Name)]
public sealed class GatewaySiloCollection : ICollectionFixture<GatewaySiloFixture>
{
    public const string Name = "gateway silo";
}
