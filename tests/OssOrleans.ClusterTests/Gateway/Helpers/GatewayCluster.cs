using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.DependencyInjection;
using OssOrleans.Gateway;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>
/// An in-process cluster whose silos each serve the S3 gateway on a loopback port, over the origin simulator, and AWSSDK.S3
/// clients for it with the SDK's default settings (flexible checksums: signed aws-chunked bodies with CRC32 trailers).
/// </summary>
public sealed class GatewayCluster : IAsyncDisposable
{
    public const string Bucket = TestCacheCluster.Bucket;

    private GatewayCluster(TestCacheCluster cluster, IReadOnlyList<string> urls)
    {
        Cluster = cluster;
        Urls = urls;
    }

    public TestCacheCluster Cluster { get; }

    public OriginSimulator Origin => Cluster.Origin;

    /// <summary>Each silo's gateway URL, in silo order.</summary>
    public IReadOnlyList<string> Urls { get; }

    public static async Task<GatewayCluster> StartAsync(short silos = 2, Action<GatewayOptions>? gateway = null, Action<AuthOptions>? auth = null)
    {
        var cluster = await TestCacheCluster.StartAsync(silos, silo: s =>
        {
            if (auth is not null)
                s.Services.Configure(auth);
            s.AddOssS3Gateway(o =>
            {
                o.Urls = "http://127.0.0.1:0";
                gateway?.Invoke(o);
            });
        });
        var urls = new List<string>();
        foreach (var silo in cluster.Cluster.Silos)
        {
            var endpoint = cluster.Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<GatewayEndpoint>();
            urls.Add((await endpoint.UrlsAsync.WaitAsync(TimeSpan.FromSeconds(30)))[0]);
        }
        return new GatewayCluster(cluster, urls);
    }

    /// <summary>A client of silo <paramref name="silo"/>'s gateway, SDK defaults otherwise; any key works in an anonymous cluster.</summary>
    public AmazonS3Client S3(int silo = 0, string accessKey = "anything", string secret = "anything-at-all", Action<AmazonS3Config>? configure = null)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = Urls[silo],
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            // Every failure reaches the test as the gateway answered it.
            MaxErrorRetry = 0,
        };
        configure?.Invoke(config);
        return new AmazonS3Client(new BasicAWSCredentials(accessKey, secret), config);
    }

    /// <summary>Puts random bytes at the origin (not through the gateway) and returns them.</summary>
    public byte[] PutAtOrigin(string key, int size, int seed = 1) => Cluster.PutRandom(key, size, seed);

    public static byte[] RandomBytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}
