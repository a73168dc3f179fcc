using System.Net;
using System.Security.Cryptography;
using OssOrleans.Client;
using OssOrleans.IntegrationTests.Operations;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// The cluster the adversarial suite attacks: three real silo processes in one Redis membership, TLS between everything
/// Orleans (client certificates required), three tenants (team-a and team-b, each with read, list and write on its own
/// prefix of bucket <see cref="Bucket"/>, and an admin), an audit log per silo, and a local origin shared by the three
/// (a folder, so a test compares what it reads with the file). Honest clients of every tenant and a hostile Orleans client
/// are connected once. Each silo's data plane is advertised on 127.0.0.2 through a <see cref="TamperingProxy"/>, so a test
/// can play the network between a client and a data plane; clients on this machine read over the silos' Unix sockets and
/// never pass through it unless they turn those off.
/// </summary>
public sealed class SecurityClusterFixture : IAsyncLifetime
{
    public const string Bucket = "shared";
    public const int ShardSize = 1 << 20;
    public const string TeamA = "team-a";
    public const string TeamB = "team-b";
    public const string AdminTenant = "ops-admin";

    /// <summary>A tenant that may read and list team-a's and team-c's prefixes, which lie on both sides of team-b's.</summary>
    public const string Auditor = "auditor";

    /// <summary>A tenant that may list the whole bucket (and read nothing): the full listing the filtered ones are checked against.</summary>
    public const string Lister = "lister";

    /// <summary>Short, so the expiry tests wait a few seconds; honest readers use a location at once, and ask again when refused.</summary>
    public static readonly TimeSpan CapabilityLifetime = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The capability lifetime of silo <see cref="LongTokenSilo"/>: long enough that its tokens are still within their
    /// lifetime after it restarts, so a refusal then shows the incarnation binding, not the expiry.
    /// </summary>
    public static readonly TimeSpan LongCapabilityLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The silo whose tokens live <see cref="LongCapabilityLifetime"/> (the one the restart test restarts).</summary>
    public const int LongTokenSilo = 2;

    /// <summary>Short enough that <see cref="EarlySession"/> has expired by the time a test needs it; far longer than the suite's small uploads take.</summary>
    public static readonly TimeSpan UploadSessionLifetime = TimeSpan.FromSeconds(8);

    /// <summary>Parts one tenant may have in flight on one silo (the per-tenant bound under test).</summary>
    public const int MaxUploadsPerTenant = 2;

    // Random per run: a secret that appears in an audit line or an error message is found by value.
    public string TeamASecret { get; } = "team-a-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string TeamBSecret { get; } = "team-b-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string AdminSecret { get; } = "admin-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string AuditorSecret { get; } = "auditor-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string ListerSecret { get; } = "lister-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string ClusterSecret { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    public string ClusterId { get; } = "adversarial-" + Guid.NewGuid().ToString("N")[..8];

    private DirectoryInfo? _work;
    private RedisServerProcess? _redis;
    private readonly List<TamperingProxy> _proxies = [];

    /// <summary>The silos, by position; a test that restarts one puts the new process in its place.</summary>
    public SiloProcess[] Silos { get; } = new SiloProcess[3];

    /// <summary>Each silo's data-plane port (fixed, so a restarted silo listens where its old shard URLs point).</summary>
    public int[] DataPlanePorts { get; private set; } = [];

    public TestCertificates Certificates { get; } = TestCertificates.Create();

    public string WorkDirectory => _work!.FullName;

    /// <summary>The local origin's folder: bucket <see cref="Bucket"/> is <c>&lt;DataDirectory&gt;/shared</c>.</summary>
    public string DataDirectory => Path.Combine(WorkDirectory, "data");

    public string AuditPath(int silo) => Path.Combine(WorkDirectory, $"audit-{silo}.jsonl");

    public OssCacheClient ClientA { get; private set; } = null!;
    public OssCacheClient ClientB { get; private set; } = null!;
    public OssCacheClient Admin { get; private set; } = null!;
    public HostileOrleansClient Hostile { get; private set; } = null!;

    /// <summary>An upload session team-a started when the cluster came up, so it has expired by the time a test checks that.</summary>
    public UploadSession EarlySession { get; private set; } = null!;

    public IReadOnlyList<TamperingProxy> Proxies => _proxies;

    public IEnumerable<string> Gateways => Silos.Select(s => s.Gateway);

    public async Task InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("oss-adversarial-");
        Directory.CreateDirectory(Path.Combine(DataDirectory, Bucket));
        // Keys both tenants list under the bucket's root, and a model directory of each; team-b's names are the secret
        // a listing must not give away to team-a.
        // Team-a's keys come first in the bucket, in one flat directory, so the root listing splits its range by key.
        for (int i = 0; i < 300; i++)
            PutOrigin($"{TeamA}/000-list/a-{i:D4}.txt", [(byte)i]);
        for (int i = 0; i < 300; i++)
            PutOrigin($"{TeamB}/list/secret-name-{i:D4}.txt", [(byte)i]);
        for (int i = 0; i < 20; i++)
            PutOrigin($"team-c/c-{i:D4}.txt", [(byte)i]);
        foreach (var tenant in new[] { TeamA, TeamB })
        {
            PutOrigin($"{tenant}/model/weights.bin", (2 * ShardSize) + 4321);
            PutOrigin($"{tenant}/model/config.json", System.Text.Encoding.UTF8.GetBytes($"{{\"owner\":\"{tenant}\"}}\n"));
        }
        _redis = await RedisServerProcess.StartAsync();
        DataPlanePorts = FreePort.GetLoopbackPorts(3);
        foreach (int port in DataPlanePorts)
            _proxies.Add(new TamperingProxy(new IPEndPoint(IPAddress.Parse("127.0.0.2"), port), new IPEndPoint(IPAddress.Loopback, port)));

        // Started together: Orleans membership in Redis handles concurrent joins.
        var starting = Enumerable.Range(0, 3).Select(i => SiloProcess.StartAsync(SiloArgs(i), WorkDirectory)).ToArray();
        try
        {
            await Task.WhenAll(starting);
        }
        finally
        {
            for (int i = 0; i < 3; i++)
                Silos[i] = starting[i].IsCompletedSuccessfully ? starting[i].Result : null!;
        }

        ClientA = await ConnectAsync(TeamA, TeamASecret);
        ClientB = await ConnectAsync(TeamB, TeamBSecret);
        Admin = await ConnectAsync(AdminTenant, AdminSecret);
        Hostile = await HostileOrleansClient.ConnectAsync(this, Certificates.ClientCertificateFile, Certificates.ClientKeyFile);
        await WaitForSilosAsync(3);
        EarlySession = await Hostile.As(TeamA, TeamASecret).CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamA, Guid.NewGuid().ToString("N"))).StartAsync(ObjectAt("team-a/early/part.bin"), false, 1));
    }

    private string[] SiloArgs(int index) =>
    [
        "--cluster-mode", "Redis", "--redis", _redis!.ConnectionString, "--Cluster:ClusterId=" + ClusterId,
        "--Auth:ClusterSecret=" + ClusterSecret,
        "--Origin:SeedSample=false",
        $"--Cache:ShardSize={ShardSize}", $"--Cache:CapacityBytes={256 << 20}",
        $"--Cache:DataPlaneUrl=http://127.0.0.1:{DataPlanePorts[index]}", "--Cache:AdvertisedHost=127.0.0.2",
        // Small pages, so a listing of the bucket's root splits into partitions across the tenants' prefixes.
        "--Cache:ListPageSize=10",
        "--Auth:Tenants:0:AccessKeyId=" + TeamA, "--Auth:Tenants:0:Secret=" + TeamASecret, $"--Auth:Tenants:0:Grants:0=read,list,write oss://{Bucket}/{TeamA}/",
        "--Auth:Tenants:1:AccessKeyId=" + TeamB, "--Auth:Tenants:1:Secret=" + TeamBSecret, $"--Auth:Tenants:1:Grants:0=read,list,write oss://{Bucket}/{TeamB}/",
        "--Auth:Tenants:2:AccessKeyId=" + AdminTenant, "--Auth:Tenants:2:Secret=" + AdminSecret, "--Auth:Tenants:2:Grants:0=admin oss://*",
        "--Auth:Tenants:3:AccessKeyId=" + Auditor, "--Auth:Tenants:3:Secret=" + AuditorSecret,
        $"--Auth:Tenants:3:Grants:0=read,list oss://{Bucket}/{TeamA}/", $"--Auth:Tenants:3:Grants:1=read,list oss://{Bucket}/team-c/",
        "--Auth:Tenants:4:AccessKeyId=" + Lister, "--Auth:Tenants:4:Secret=" + ListerSecret, $"--Auth:Tenants:4:Grants:0=list oss://{Bucket}/",
        $"--Auth:CapabilityLifetime={(index == LongTokenSilo ? LongCapabilityLifetime : CapabilityLifetime):c}", $"--Auth:UploadSessionLifetime={UploadSessionLifetime:c}",
        $"--Auth:MaxUploadsPerTenant={MaxUploadsPerTenant}",
        "--Auth:AuditPath=" + AuditPath(index),
        .. Certificates.SiloFlags(),
    ];

    /// <summary>Options of an honest client of <paramref name="tenant"/> with the cluster's CA and a client certificate.</summary>
    public OssClientOptions Options(string tenant, string secret)
    {
        var options = new OssClientOptions
        {
            ClusterId = ClusterId,
            AccessKeyId = tenant,
            AccessKeySecret = secret,
            TlsCaFile = Certificates.CaFile,
            TlsCertificateFile = Certificates.ClientCertificateFile,
            TlsKeyFile = Certificates.ClientKeyFile,
            // Reads in these tests are the reader's own: no background prefetch racing what a test counts or attacks.
            OpenPrefetchBytes = 0,
            ClusterReadAheadShards = 0,
        };
        options.Gateways.Clear();
        foreach (var g in Gateways)
            options.Gateways.Add(g);
        return options;
    }

    public async Task<OssCacheClient> ConnectAsync(string tenant, string secret, Action<OssClientOptions>? configure = null)
    {
        var options = Options(tenant, secret);
        configure?.Invoke(options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await OssCacheClient.ConnectAsync(options, timeout.Token);
    }

    /// <summary>A credential file of the tenant (the origin's JSON shape, owner-only), as ossctl's --credential-file takes it.</summary>
    public string CredentialFile(string tenant, string secret)
    {
        string path = Path.Combine(WorkDirectory, $"credentials-{tenant}.json");
        if (!File.Exists(path))
        {
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new { AccessKeyId = tenant, AccessKeySecret = secret }));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }

    public static ObjectUri ObjectAt(string key) => new(Bucket, key);

    public static string UriText(string key) => $"oss://{Bucket}/{key}";

    /// <summary>Writes an object straight into the origin's folder (random bytes) and returns them.</summary>
    public byte[] PutOrigin(string key, int size)
    {
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        PutOrigin(key, bytes);
        return bytes;
    }

    public void PutOrigin(string key, byte[] bytes)
    {
        string path = OriginPath(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    public string OriginPath(string key) => Path.Combine([DataDirectory, Bucket, .. key.Split('/')]);

    /// <summary>The SHA-256 of the object's file at the origin: what every honest read must come to.</summary>
    public byte[] OriginSha256(string key) => SHA256.HashData(File.ReadAllBytes(OriginPath(key)));

    /// <summary>Reads the whole object through <paramref name="client"/> and returns its SHA-256.</summary>
    public static async Task<byte[]> ReadSha256Async(OssCacheClient client, string key)
    {
        await using var stream = await client.OpenReadAsync(UriText(key));
        return await SHA256.HashDataAsync(stream);
    }

    /// <summary>Where shard <paramref name="index"/> of the object is, as <paramref name="client"/>'s tenant is told (loading it if need be).</summary>
    public static Task<ShardLocation> LocateAsync(OssCacheClient client, ObjectInfo info, int index) =>
        client.Cluster.GetGrain<IShardGrain>(info.Shard(index).ToGrainKey()).EnsureLoadedAsync(info.Size);

    /// <summary>
    /// A shard loaded on a silo that <paramref name="where"/> accepts (by position): puts objects of six shards under
    /// <paramref name="prefix"/> and loads their shards until one lands there (placement is the cluster's choice).
    /// </summary>
    public async Task<(string Key, ObjectInfo Info, int Index, ShardLocation Location)> ShardOnAsync(OssCacheClient client, string prefix, Func<int, bool> where)
    {
        var seen = new List<int>();
        for (int attempt = 0; attempt < 10; attempt++)
        {
            string key = $"{prefix}{Guid.NewGuid():N}.bin";
            PutOrigin(key, (6 * ShardSize) - 777);
            var info = await client.StatAsync(UriText(key));
            for (int i = 0; i < info.ShardCount; i++)
            {
                var location = await LocateAsync(client, info, i);
                int silo = IndexOf(location.Silo);
                if (where(silo))
                    return (key, info, i, location);
                seen.Add(silo);
            }
        }
        var silos = await Admin.GetClusterStatsAsync();
        throw new InvalidOperationException($"no shard landed on a silo the test wanted; they landed on silos {string.Join(", ", seen)}; " +
            $"active silos: {string.Join(", ", silos.Select(x => x.Silo))}; processes exited: {string.Join(", ", Silos.Select(x => x.HasExited))}\n{SiloOutputs()}");
    }

    /// <summary>The data plane of the silo a location names, reached directly (not through its <see cref="TamperingProxy"/>).</summary>
    public string DirectDataPlane(ShardLocation location) => $"http://127.0.0.1:{DataPlanePorts[IndexOf(location.Silo)]}";

    /// <summary>The silo process (and its position) whose address <paramref name="siloAddress"/> names (as shard locations give it).</summary>
    public int IndexOf(string siloAddress)
    {
        for (int i = 0; i < Silos.Length; i++)
        {
            if (siloAddress.Contains($":{Silos[i].SiloPort}:", StringComparison.Ordinal) || siloAddress.Contains($":{Silos[i].SiloPort}@", StringComparison.Ordinal))
                return i;
        }
        throw new InvalidOperationException($"no silo of this cluster is '{siloAddress}' (silo ports {string.Join(", ", Silos.Select(s => s.SiloPort))})");
    }

    /// <summary>Every shard of bucket <see cref="Bucket"/> under <paramref name="keyPrefix"/> that any silo holds, as the admin sees them.</summary>
    public async Task<IReadOnlyList<CachedShard>> CachedShardsAsync(string keyPrefix)
    {
        var silos = await Admin.GetClusterStatsAsync();
        var pages = await Task.WhenAll(silos.Select(s => Admin.Cluster.GetGrain<ISiloStatsGrain>(s.Silo).GetCachedShardsAsync(Bucket, keyPrefix, 1000)));
        return [.. pages.SelectMany(p => p.Shards)];
    }

    /// <summary>Resident memory of each silo process (VmRSS), in bytes.</summary>
    public long[] SiloRss() =>
        [.. Silos.Select(s => long.Parse(File.ReadLines($"/proc/{s.ProcessId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024)];

    /// <summary>Waits until the admin client sees <paramref name="count"/> active silos, each with its data plane.</summary>
    public Task WaitForSilosAsync(int count) =>
        Poll.UntilAsync($"{count} active silos", () => Admin.GetClusterStatsAsync(),
            s => s.Count == count && s.All(x => x.DataPlaneUrl.Length > 0), TimeSpan.FromSeconds(90));

    /// <summary>The last lines of every silo's output, for failure messages.</summary>
    public string SiloOutputs() =>
        string.Join("\n---\n", Silos.Where(s => s is not null).Select(s => s.Output[^Math.Min(3000, s.Output.Length)..]));

    public async Task DisposeAsync()
    {
        if (Hostile is not null)
            await Hostile.DisposeAsync();
        foreach (var c in new[] { ClientA, ClientB, Admin })
        {
            if (c is not null)
                await c.DisposeAsync();
        }
        foreach (var s in Silos)
        {
            if (s is not null)
                await s.DisposeAsync();
        }
        foreach (var p in _proxies)
            await p.DisposeAsync();
        if (_redis is not null)
            await _redis.DisposeAsync();
        Certificates.Dispose();
        try
        {
            _work?.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A silo killed mid-write may leave a file behind for a moment; a leftover temp folder fails nothing.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SecurityClusterCollection : ICollectionFixture<SecurityClusterFixture>
{
    public const string Name = "adversarial cluster";
}
