using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>A one-silo cluster as a separate process, with the in-process origin simulator as its origin.</summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    public const string Bucket = "bench";

    private BenchCluster(OriginSimulator origin, SiloProcess silo, OssCacheClient client)
    {
        Origin = origin;
        Silo = silo;
        Client = client;
    }

    public OriginSimulator Origin { get; }

    public SiloProcess Silo { get; }

    public OssCacheClient Client { get; }

    /// <summary>The tenant benchmarks run as: every verb on the bench bucket, and the admin API (cluster statistics).</summary>
    public const string TenantId = "bench", TenantSecret = "bench-tenant-secret-0123456789";

    /// <summary>
    /// Whether the silo has tenants (every call authenticated and authorized) and clients check CRCs: on unless
    /// OSSORLEANS_BENCH_TRUST=off, which runs the scenario as before the trust work (anonymous, no client CRC checks).
    /// </summary>
    public static bool Trust { get; } = Environment.GetEnvironmentVariable("OSSORLEANS_BENCH_TRUST") != "off";

    /// <summary>What the trust setting means, for the report.</summary>
    public static string TrustSetting => Trust
        ? "tenant with grants (every grain call authenticated and authorized), data-plane capabilities, client CRC-64 checks"
        : "anonymous silo, data-plane capabilities, no client CRC checks (OSSORLEANS_BENCH_TRUST=off)";

    public static async Task<BenchCluster> StartAsync(SimulatorSettings settings, long cacheCapacity, OssClientOptions? clientOptions = null, bool pretouch = false, IEnumerable<string>? extraArgs = null)
    {
        var origin = await OriginSimulator.StartNewAsync(settings, Bucket);
        string[] tenants = Trust
            ?
            [
                $"--Auth:Tenants:0:AccessKeyId={TenantId}", $"--Auth:Tenants:0:Secret={TenantSecret}",
                $"--Auth:Tenants:0:Grants:0=read,list,write oss://{Bucket}/", "--Auth:Tenants:0:Grants:1=admin oss://*",
            ]
            : [];
        var silo = await SiloProcess.StartAsync([
            "--Origin:Kind=S3", $"--Origin:S3:Endpoint={origin.Endpoint}",
            "--Origin:S3:AccessKeyId=bench", "--Origin:S3:AccessKeySecret=bench",
            $"--Cache:CapacityBytes={cacheCapacity}",
            $"--Cache:PretouchBuffers={pretouch}",
            "--Logging:LogLevel:Default=Warning",
            .. tenants,
            .. extraArgs ?? [],
        ]);
        var options = clientOptions ?? new OssClientOptions();
        Authenticate(options);
        options.Gateways.Clear();
        options.Gateways.Add(silo.Gateway);
        var client = await OssCacheClient.ConnectAsync(options);
        if (pretouch)
            await WaitForPretouchAsync(client, cacheCapacity);
        var cluster = new BenchCluster(origin, silo, client);
        await cluster.WarmUpAsync();
        return cluster;
    }

    /// <summary>
    /// Waits until the silo has touched its whole cache memory (it does so in the background after start), so that the
    /// page faults of pre-touching are not counted in anything measured.
    /// </summary>
    private static async Task WaitForPretouchAsync(OssCacheClient client, long capacity)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        // Within a few 8 MiB shards of the capacity (the pool stops one buffer short of it).
        while ((await client.GetClusterStatsAsync()).Sum(s => s.AllocatedBytes) < capacity - (64L << 20))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the silo did not finish pre-touching its cache within 2 minutes");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Reads a 256 MiB object twice (cold, then cached) before anything is measured, so that the JIT has settled
    /// in both processes: a freshly started silo spent 14% of its CPU in the JIT during the first measured reads.
    /// </summary>
    private async Task WarmUpAsync()
    {
        Origin.PutObject(Bucket, "warmup/object.bin", RandomObject(256L << 20));
        for (int i = 0; i < 2; i++)
        {
            await using var s = await Client.OpenReadAsync($"oss://{Bucket}/warmup/object.bin");
            await DrainAsync(s);
        }
        Origin.ResetCounters();
    }

    public static OssClientOptions ClientOptions(int readAhead) => new() { ReadAheadShards = readAhead };

    /// <summary>
    /// The bench tenant's credentials (and the CRC setting) for a client of this process; client processes the scenario
    /// starts inherit them through the environment, as a user's would.
    /// </summary>
    public static void Authenticate(OssClientOptions options)
    {
        options.VerifyCrc = Trust;
        if (!Trust)
            return;
        options.AccessKeyId = TenantId;
        options.AccessKeySecret = TenantSecret;
        Environment.SetEnvironmentVariable("OSSORLEANS_ACCESS_KEY_ID", TenantId);
        Environment.SetEnvironmentVariable("OSSORLEANS_ACCESS_KEY_SECRET", TenantSecret);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Silo.DisposeAsync();
        await Origin.DisposeAsync();
    }

    /// <summary>Reads the object from start to end with a 1 MiB buffer and returns the bytes read.</summary>
    public static async Task<long> DrainAsync(Stream stream)
    {
        var buffer = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
            total += n;
        return total;
    }

    public static byte[] RandomObject(long size)
    {
        var data = GC.AllocateUninitializedArray<byte>(checked((int)size));
        new Random(42).NextBytes(data);
        return data;
    }
}
