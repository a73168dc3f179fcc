using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using OssOrleans.Client;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Security;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests.Security;

/// <summary>
/// A 3-silo cluster with tenants: what each may do is what its grants say, nothing a client claims decides what is cached,
/// and the bytes a client hands out are checked against the CRC the cluster computed.
/// </summary>
public sealed class TenantFixture : IAsyncLifetime
{
    public const string SecretA = "team-a-secret-0123456789";

    public static AuthOptions Auth() => new()
    {
        Tenants =
        [
            new TenantOptions { AccessKeyId = "team-a", Secret = SecretA, Grants = [$"read,list,write oss://{TestCacheCluster.Bucket}/team-a/"] },
            new TenantOptions { AccessKeyId = "team-b", Secret = "team-b-secret-0123456789", Grants = [$"read,list,write oss://{TestCacheCluster.Bucket}/team-b/"] },
        ],
    };

    public TestCacheCluster Cluster { get; private set; } = null!;

    /// <summary>team-a's client. (An in-process test cluster has one Orleans client, so one identity; tests of several
    /// tenants side by side run against real silo processes, in the integration tests.)</summary>
    public OssCacheClient A => Cluster.Client;

    public async Task InitializeAsync() =>
        Cluster = await TestCacheCluster.StartAsync(auth: Auth(), client: new OssClientOptions { AccessKeyId = "team-a", AccessKeySecret = SecretA });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class TenantTests(TenantFixture f) : IClassFixture<TenantFixture>
{
    private TestCacheCluster C => f.Cluster;

    [Fact]
    public async Task Read_OwnPrefix_Works_OtherTenantsPrefix_IsDenied()
    {
        var a = C.PutRandom("team-a/r1.bin", 300_000);
        C.PutRandom("team-b/r1.bin", 300_000);
        await using (var s = await f.A.OpenReadAsync(TestCacheCluster.Uri("team-a/r1.bin")))
            Assert.Equal(a, await ReadTestHelpers.ReadAllAsync(s));

        await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.StatAsync(TestCacheCluster.Uri("team-b/r1.bin")));
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.OpenReadAsync(TestCacheCluster.Uri("team-b/r1.bin")));
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.ReadRangeAsync(TestCacheCluster.Uri("team-b/r1.bin"), 0, new byte[10]));
        // Not even by the shard grain directly, with the right version.
        var head = C.Origin.HeadObject(TestCacheCluster.Bucket, "team-b/r1.bin")!;
        var info = new ObjectInfo(new ObjectUri(TestCacheCluster.Bucket, "team-b/r1.bin"), head.Length, head.ETag, head.LastModified, null, 1 << 20);
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => C.LocateAsync(info, 0));
        Assert.Equal(0, C.StoreOf(C.Cluster.Silos[0]).ResidentShardIds().Count(id => id.Contains("team-b/r1.bin", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task List_BucketRoot_ShowsOnlyTheTenantsKeys_AndAnotherTenantsPrefixIsDenied()
    {
        for (int i = 0; i < 30; i++)
        {
            C.PutRandom($"team-a/l/{i:D3}", 10);
            C.PutRandom($"team-b/l/{i:D3}", 10);
        }
        foreach (var options in new[] { new ListOptions { Fast = true }, new ListOptions { Fast = false }, new ListOptions { Fast = true, Delimiter = "/" }, new ListOptions { Fast = false, Delimiter = "/" } })
        {
            var keys = await f.A.ListAsync(TestCacheCluster.Uri(""), options).Select(e => e.Key).ToListAsync();
            Assert.NotEmpty(keys);
            Assert.All(keys, k => Assert.StartsWith("team-a/", k, StringComparison.Ordinal));
            if (options.Delimiter is null)
                Assert.Contains("team-a/l/029", keys);
        }
        var own = await f.A.ListAsync(TestCacheCluster.Uri("team-a/l/"), new ListOptions { Fast = false }).Select(e => e.Key).ToListAsync();
        Assert.Equal(30, own.Count);
        await Assert.ThrowsAsync<OssAccessDeniedException>(async () => await f.A.ListAsync(TestCacheCluster.Uri("team-b/")).ToListAsync());
    }

    [Fact]
    public async Task Warm_Prepare_Write_OfAnotherTenant_AreDenied_AndNothingIsWritten()
    {
        C.PutRandom("team-b/m/w.bin", 1000);
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.WarmAsync(TestCacheCluster.Uri("team-b/m/")));
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.WarmAsync(TestCacheCluster.Uri("")));
        var dir = Directory.CreateTempSubdirectory("ossorleans-prep-");
        try
        {
            await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.PrepareDirectoryAsync(TestCacheCluster.Uri("team-b/m"), dir.FullName));
            Assert.Empty(dir.GetFileSystemInfos());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.OpenWriteAsync(TestCacheCluster.Uri("team-b/m/w.bin")));
        Assert.Equal(1000, C.Origin.HeadObject(TestCacheCluster.Bucket, "team-b/m/w.bin")!.Length);
    }

    [Fact]
    public async Task Write_OwnPrefix_IsReadBackWithoutOriginGets()
    {
        var data = RandomNumberGenerator.GetBytes(3 << 20);
        await using (var w = await f.A.OpenWriteAsync(TestCacheCluster.Uri("team-a/w/ckpt.bin"), new WriteOptions { PartSize = 5 << 20 }))
        {
            await w.WriteAsync(data);
            await w.CompleteAsync();
        }
        await C.QuiesceAsync();
        C.Origin.ResetCounters();
        await using (var s = await f.A.OpenReadAsync(TestCacheCluster.Uri("team-a/w/ckpt.bin")))
            Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));
        Assert.Equal(0, C.Origin.Counters.GetBodyBytes);
    }

    [Fact]
    public async Task ClusterStats_NeedTheAdminGrant()
    {
        var ex = await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.GetClusterStatsAsync());
        Assert.Contains("admin oss://*", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WarmJob_IsKeyedByItsTenant_AndAnotherTenantsJobIsUnreachable()
    {
        C.PutRandom("team-a/j/x.bin", 1000);
        var job = await f.A.WarmAsync(TestCacheCluster.Uri("team-a/j/"));
        Assert.StartsWith("team-a/", job.JobId, StringComparison.Ordinal);
        Assert.Equal(WarmJobState.Completed, (await job.WaitAsync()).State);
        Assert.Contains(await f.A.ListWarmJobsAsync(), j => j.JobId == job.JobId);
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => f.A.GetWarmJob("team-b/" + Guid.NewGuid().ToString("N")).GetProgressAsync());
    }

    [Fact]
    public async Task EnsureLoaded_WithAWrongObjectSize_IsRefused_AndHonestReadsStayWhole()
    {
        // The attack from the issue: claim that a 4 MiB object has 1,000 bytes, so shard 0 would be cached truncated.
        var data = C.PutRandom("team-a/t/weights.bin", 4 << 20);
        var info = await f.A.StatAsync(TestCacheCluster.Uri("team-a/t/weights.bin"));
        await Assert.ThrowsAsync<ArgumentException>(() => C.LocateAsync(info with { Size = 1000 }, 0));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => C.LocateAsync(info with { Size = 64L << 30 }, 3));
        // A shard size of the client's choosing (a whole 2 GiB "shard") is refused before anything is allocated.
        var huge = new ShardId(info.Uri, info.ETag, int.MaxValue, 0);
        await Assert.ThrowsAsync<ArgumentException>(() =>
            C.Cluster.Client.GetGrain<IShardGrain>(huge.ToGrainKey()).EnsureLoadedAsync(int.MaxValue));
        Assert.All(C.Cluster.Silos, s => Assert.True(C.StoreOf(s).AllocatedBytes < C.StoreOf(s).Capacity + (8L << 20)));

        await using var s = await f.A.OpenReadAsync(TestCacheCluster.Uri("team-a/t/weights.bin"));
        Assert.Equal(data, await ReadTestHelpers.ReadAllAsync(s));
    }

    [Fact]
    public async Task InternalGrains_RefuseTenants()
    {
        C.PutRandom("team-a/i/x.bin", 10);
        var info = await f.A.StatAsync(TestCacheCluster.Uri("team-a/i/x.bin"));
        var grains = C.Cluster.Client;
        var fake = new StagedShard(0, "silo", "http://127.0.0.1:1", 1, 10, 0, 1, "\"e\"", 10, "");
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => grains.GetGrain<IShardSeedGrain>(info.Shard(0).ToGrainKey()).SeedAsync(new SeedOrder(fake, "up|x|1|0", 10, 0)));
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => grains.GetGrain<IShardControlGrain>(info.Shard(0).ToGrainKey()).DiscardAsync("no"));
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => grains.GetGrain<IObjectGrain>(info.Uri.ToGrainKey()).InvalidateAsync());
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => grains.GetGrain<IWarmJobReportGrain>(0).ReportAsync(
            new WarmJobProgress("team-a/x", "oss://x/y", WarmJobState.Completed, 0, 0, 0, 0, 0, null, DateTimeOffset.UtcNow, null)));
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => grains.GetGrain<IManagementGrain>(0).GetHosts());
        await Assert.ThrowsAsync<OssAccessDeniedException>(() => grains.GetGrain<IDatasetGrain>("team-b/ds1-x").OpenAsync("me", 10));
    }

    [Fact]
    public async Task ClientCrcCheck_BytesThatAreNotTheShards_AreNeverHandedOut()
    {
        // A silo whose check passes but whose bytes are not what it loaded (a bug, memory gone bad after the check): the
        // client compares with the CRC the grain reported at load time, which came by another path.
        var data = C.PutRandom("team-a/crc/x.bin", 2 << 20);
        string uri = TestCacheCluster.Uri("team-a/crc/x.bin");
        var info = await f.A.StatAsync(uri);
        var location = await f.A.Cluster.GetGrain<IShardGrain>(info.Shard(1).ToGrainKey()).EnsureLoadedAsync(info.Size);
        var silo = C.Cluster.Silos.Single(s => s.SiloAddress.ToString() == location.Silo);
        var store = C.StoreOf(silo);
        Assert.True(store.TryLease(location.Handle, out var lease));
        using (lease)
        {
            MemoryMarshal.AsMemory(lease.Memory).Span[100] ^= 0x20;
            // The store's own check now believes the damaged bytes.
            var entry = typeof(ShardLease).GetField("entry", BindingFlags.NonPublic | BindingFlags.Instance)
                ?? typeof(ShardLease).GetFields(BindingFlags.NonPublic | BindingFlags.Instance).Single(f => f.FieldType.Name == "Entry");
            object e = entry.GetValue(lease)!;
            e.GetType().GetField("_crcs", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(e, ShardCrcs.Compute(lease.Memory.Span));
        }

        var ex = await Assert.ThrowsAsync<OssIntegrityException>(() => f.A.ReadRangeAsync(uri, 1 << 20, new byte[1000]));
        Assert.Contains("CRC-64", ex.Message, StringComparison.Ordinal);

        // With the client's check turned off the damaged byte would have been handed out: the check is what stops it.
        await using var unchecked_ = OssCacheClient.FromClusterClient(C.Cluster.Client,
            new OssClientOptions { AccessKeyId = "team-a", AccessKeySecret = TenantFixture.SecretA, VerifyCrc = false });
        var got = new byte[1000];
        await unchecked_.ReadRangeAsync(uri, 1 << 20, got);
        Assert.NotEqual(data.AsSpan(1 << 20, 1000).ToArray(), got);
        store.Remove(location.Handle);
    }
}

/// <summary>An origin whose bytes do not match the whole-object CRC-64 it reports: that version is never served.</summary>
public sealed class OriginCrcMismatchTests
{
    [Fact]
    public async Task WholeObjectPrefetch_CrcMismatch_DiscardsTheVersion_AndReadersGetAClearError()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 2, origin: new SimulatorSettings { Crc64Header = true });
        c.PutRandom("bad/x.bin", (3 << 20) + 17);
        c.Origin.MisreportCrc64(TestCacheCluster.Bucket, "bad/x.bin", 0xDEADBEEF);
        string uri = TestCacheCluster.Uri("bad/x.bin");

        var job = await c.Client.WarmAsync(TestCacheCluster.Uri("bad/"));
        var failed = await Assert.ThrowsAsync<OriginFailedException>(() => job.WaitAsync());
        Assert.Contains("CRC-64", failed.Message, StringComparison.Ordinal);

        var ex = await Assert.ThrowsAsync<OssIntegrityException>(async () =>
        {
            await using var s = await c.Client.OpenReadAsync(uri);
            await ReadTestHelpers.ReadAllAsync(s);
        });
        Assert.Contains("not served", ex.Message, StringComparison.Ordinal);
        Assert.All(c.Cluster.Silos, s => Assert.DoesNotContain(c.StoreOf(s).ResidentShardIds(), id => id.EndsWith("/bad/x.bin", StringComparison.Ordinal)));
        Assert.True((await c.Client.GetClusterStatsAsync()).Sum(s => s.CrcFailures) >= 1);
    }
}

/// <summary>On a cluster with tenants, a client must prove its tenant: without credentials, or with a wrong secret, it is refused.</summary>
public sealed class CredentialTests
{
    [Theory]
    [InlineData(null, null, "requires credentials")]
    [InlineData("team-a", "not-the-secret-of-team-a", "signature does not match")]
    [InlineData("team-z", "team-z-secret-0123456789", "unknown access key id")]
    public async Task Client_WithoutAValidProof_IsRefused_WithAClearMessageWithoutSecrets(string? keyId, string? secret, string reason)
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 1, auth: TenantFixture.Auth(), client: new OssClientOptions { AccessKeyId = keyId, AccessKeySecret = secret });
        c.PutRandom("team-a/c/x.bin", 10);
        var ex = await Assert.ThrowsAsync<OssAccessDeniedException>(() => c.Client.StatAsync(TestCacheCluster.Uri("team-a/c/x.bin")));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TenantFixture.SecretA, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, c.Origin.Counters.Requests);
    }
}

/// <summary>The data plane serves a shard only against the capability its location carries.</summary>
public sealed class DataPlaneCapabilityTests
{
    [Fact]
    public async Task DataPlane_ServesOnlyWithTheLocationsToken_AndRefusesDeletes()
    {
        await using var c = await TestCacheCluster.StartAsync(silos: 1);
        var data = c.PutRandom("cap/x.bin", 5000);
        var info = await c.Client.StatAsync(TestCacheCluster.Uri("cap/x.bin"));
        var location = await c.LocateAsync(info, 0);
        var other = await c.LocateAsync(await c.Client.StatAsync(PutOther(c)), 0);
        using var http = new HttpClient();
        string bare = $"{location.DataPlane}/s/{location.Handle}";
        foreach (var url in new[]
        {
            bare, $"{bare}?t=", $"{bare}?t={Uri.EscapeDataString(other.Token)}", $"{bare}?t={Uri.EscapeDataString(location.Token[..^2] + "AA")}",
            $"{location.DataPlane}/s/1?t={Uri.EscapeDataString(location.Token)}", $"{bare}?stage=up|x|1|0",
        })
        {
            using var refused = await http.GetAsync(url);
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        }
        using (var delete = await http.DeleteAsync(TestCacheCluster.ShardUrl(location)))
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, delete.StatusCode);
        using var ok = await http.GetAsync(TestCacheCluster.ShardUrl(location));
        Assert.Equal(data, await ok.Content.ReadAsByteArrayAsync());
    }

    private static string PutOther(TestCacheCluster c)
    {
        c.PutRandom("cap/other.bin", 5000);
        return TestCacheCluster.Uri("cap/other.bin");
    }
}
