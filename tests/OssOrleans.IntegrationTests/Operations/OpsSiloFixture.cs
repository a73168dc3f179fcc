using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Operations;

/// <summary>
/// One real silo process on the embedded default (local origin with the seeded sample bucket) with an admin token set,
/// shared by the admin API, dashboard and ossctl tests.
/// </summary>
public sealed class OpsSiloFixture : IAsyncLifetime
{
    public const string Token = "test-admin-token-7f3a";

    private DirectoryInfo? _work;

    public SiloProcess Silo { get; private set; } = null!;

    public OssCacheClient Client { get; private set; } = null!;

    /// <summary>The local origin's folder: the sample bucket is <c>&lt;DataDirectory&gt;/sample</c>.</summary>
    public string DataDirectory => Path.Combine(_work!.FullName, "data");

    public async Task InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("oss-ops-");
        // A small cache, so the dashboard's per-silo bars show the reads the tests make.
        Silo = await SiloProcess.StartAsync(["--admin-token", Token, "--Cluster:ClusterId=ops-tests", "--cache-capacity", $"{32 << 20}"], _work.FullName);
        var options = new OssClientOptions { ClusterId = "ops-tests" };
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
        _work?.Delete(recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class OpsSiloCollection : ICollectionFixture<OpsSiloFixture>
{
    public const string Name = "ops silo";
}
