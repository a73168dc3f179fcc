using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.TestingHost;
using OssOrleans.Client;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Grains;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests;

/// <summary>An in-process cluster of real silos (shard cache, data plane) over the origin simulator, through the S3 adapter.</summary>
public sealed class TestCacheCluster : IAsyncDisposable
{
    public const string Bucket = "cluster-tests";

    private TestCacheCluster(OriginSimulator origin, InProcessTestCluster cluster, FakeTimeProvider clock, OssClientOptions clientOptions)
    {
        Origin = origin;
        Cluster = cluster;
        Clock = clock;
        Client = OssCacheClient.FromClusterClient(cluster.Client, clientOptions);
    }

    public OriginSimulator Origin { get; }

    public InProcessTestCluster Cluster { get; }

    /// <summary>The clock behind metadata TTLs in every silo (Orleans' own clock is left alone).</summary>
    public FakeTimeProvider Clock { get; }

    public OssCacheClient Client { get; }

    /// <param name="silo">More configuration of each silo (the S3 gateway), after the cache's.</param>
    public static async Task<TestCacheCluster> StartAsync(short silos = 3, Action<CacheOptions>? cache = null, OssClientOptions? client = null, SimulatorSettings? origin = null,
        AuthOptions? auth = null, Action<ISiloBuilder>? silo = null)
    {
        var configureSilo = silo;
        var sim = await OriginSimulator.StartNewAsync(origin, Bucket);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IObjectStore>(sp => new S3ObjectStore(new S3StoreOptions
            {
                Endpoint = sim.Endpoint.ToString(),
                AccessKeyId = "cluster-tests",
                AccessKeySecret = "cluster-tests-secret",
                BaseDelay = TimeSpan.FromMilliseconds(5),
                MaxDelay = TimeSpan.FromMilliseconds(50),
            }));
            silo.Services.AddSingleton(new CacheClock(clock));
            if (auth is not null)
                silo.Services.AddSingleton(new TenantRegistry(auth));
            // The testing host waits for the cluster through its own hooks, from its client (production silos host none).
            silo.Services.AddSingleton(new SystemTargetAllowList("Orleans.Runtime.TestHooks.ITestHooks"));
            silo.AddOssCache(o =>
            {
                o.ShardSize = 1 << 20;
                o.CapacityBytes = 512L << 20;
                cache?.Invoke(o);
            });
            configureSilo?.Invoke(silo);
            // Notice a lost silo in a few seconds rather than the production default.
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
        });
        client ??= new OssClientOptions();
        var credentials = client;
        builder.ConfigureClient(c => c.UseOssCredentials(credentials));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new TestCacheCluster(sim, cluster, clock, client);
    }

    /// <summary>Puts random bytes at the origin and returns them.</summary>
    public byte[] PutRandom(string key, int size, int seed = 0)
    {
        var data = new byte[size];
        new Random(seed == 0 ? key.GetHashCode(StringComparison.Ordinal) : seed).NextBytes(data);
        Origin.PutObject(Bucket, key, data);
        return data;
    }

    public static string Uri(string key) => $"oss://{Bucket}/{key}";

    /// <summary>The data-plane URL of a located shard, with its capability, as a plain HTTP client would use it.</summary>
    public static string ShardUrl(ShardLocation location) =>
        $"{location.DataPlane}/s/{location.Handle}?t={System.Uri.EscapeDataString(location.Token)}";

    /// <summary>Loads shard <paramref name="index"/> of the object version (once per cluster) and says where it is.</summary>
    public Task<ShardLocation> LocateAsync(ObjectInfo info, int index) =>
        Cluster.Client.GetGrain<IShardGrain>(info.Shard(index).ToGrainKey()).EnsureLoadedAsync(info.Size);

    /// <summary>
    /// Waits until the origin has seen no request for <paramref name="quietMs"/> (at most 10 s): loads that an earlier
    /// test's streams asked the cluster for ahead of their readers (fire and forget) must not land in this test's counts.
    /// </summary>
    public async Task QuiesceAsync(int quietMs = 300)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        long seen = Origin.Counters.Requests;
        var quietSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline && DateTime.UtcNow - quietSince < TimeSpan.FromMilliseconds(quietMs))
        {
            await Task.Delay(50);
            long now = Origin.Counters.Requests;
            if (now != seen)
            {
                seen = now;
                quietSince = DateTime.UtcNow;
            }
        }
    }

    /// <summary>
    /// A grain factory inside a silo: its calls are signed as the silo's, so tests reach what clients may not (Orleans'
    /// management grain, for diagnostics).
    /// </summary>
    public IGrainFactory SiloGrains => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<IGrainFactory>();

    internal ShardStore StoreOf(SiloHandle silo) => Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<ShardStore>();

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Cluster.DisposeAsync();
        await Origin.DisposeAsync();
    }
}
