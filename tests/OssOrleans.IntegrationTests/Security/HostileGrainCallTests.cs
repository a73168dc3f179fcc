using System.Security.Cryptography;
using OssOrleans.Checksums;
using static OssOrleans.IntegrationTests.Security.SecurityAssert;
using static OssOrleans.IntegrationTests.Security.SecurityClusterFixture;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// A hostile Orleans client (<see cref="HostileOrleansClient"/>) against the gateways: calls without a proof, with a
/// proof of a wrong secret, for another target, outside the time window, with a forged silo signature; calls of internal
/// grains; and calls that claim sizes, shard sizes and items the origin contradicts. Each one is refused, and team-a's
/// honest client keeps reading exactly the origin's bytes of the objects the attacks aimed at.
/// </summary>
[Collection(SecurityClusterCollection.Name)]
public sealed class HostileGrainCallTests(SecurityClusterFixture cluster)
{
    private HostileOrleansClient Hostile => cluster.Hostile;

    private static Task<ObjectInfo> GetInfo(IGrainFactory g, string key) => g.GetGrain<IObjectGrain>(ObjectAt(key).ToGrainKey()).GetInfoAsync();

    private string NewObject(string prefix, int size)
    {
        string key = $"{prefix}{Guid.NewGuid():N}.bin";
        cluster.PutOrigin(key, size);
        return key;
    }

    [Fact]
    public async Task GrainCall_WithoutAValidProofForExactlyThisCall_IsRefused()
    {
        string key = NewObject("team-a/proof/", 1000);
        string other = NewObject("team-a/proof/", 1000);
        long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // The control: the forger signs exactly as the client library does, so the refusals below are about what each one
        // changes, not about how the proof is written.
        Assert.Equal(1000, (await Hostile.As(TeamA, cluster.TeamASecret).CallAsync(g => GetInfo(g, key))).Size);
        // Within the clock window (2 minutes either way) a proof is accepted.
        Assert.Equal(1000, (await Hostile.With(Forges.Proof(TeamA, cluster.TeamASecret, () => Now() - 90)).CallAsync(g => GetInfo(g, key))).Size);

        var attacks = new (string What, Forge Forge)[]
        {
            ("no proof", Forges.Nothing),
            ("a malformed proof", Forges.Fixed(CallProof.RequestContextKey, $"v1:{TeamA}:{Now()}:not-a-mac")),
            ("a proof that is not a string", Forges.Fixed(CallProof.RequestContextKey, 42)),
            ("an unknown access key id", Forges.Proof("team-z", cluster.TeamASecret)),
            ("team-a's id with a wrong secret", Forges.Proof(TeamA, cluster.TeamASecret + "x")),
            ("team-a's id with team-b's secret", Forges.Proof(TeamA, cluster.TeamBSecret)),
            ("a proof made for another object", Forges.Proof(TeamA, cluster.TeamASecret, signFor: t => t with { GrainId = t.GrainId.Replace(ObjectAt(key).ToGrainKey(), ObjectAt(other).ToGrainKey(), StringComparison.Ordinal) })),
            ("a proof made for another method", Forges.Proof(TeamA, cluster.TeamASecret, signFor: t => t with { Method = nameof(IObjectGrain.PrefetchAsync) })),
            ("a proof made for another interface", Forges.Proof(TeamA, cluster.TeamASecret, signFor: t => t with { Interface = typeof(IShardGrain).FullName! })),
            ("a proof captured 130 s ago (replayed beyond the window)", Forges.Proof(TeamA, cluster.TeamASecret, () => Now() - 130)),
            ("a proof dated 130 s ahead", Forges.Proof(TeamA, cluster.TeamASecret, () => Now() + 130)),
            ("a proof dated at the epoch", Forges.Proof(TeamA, cluster.TeamASecret, () => 0)),
            ("team-b's valid proof on team-a's object", Forges.Proof(TeamB, cluster.TeamBSecret)),
        };
        foreach (var (what, forge) in attacks)
            await DeniedAsync(what, () => Hostile.With(forge).CallAsync(g => GetInfo(g, key)));

        // A proof captured from a real call is good for that call only (within the window), not for another object.
        string? captured = null;
        await Hostile.With(t => { var p = Forges.Proof(TeamA, cluster.TeamASecret)(t).ToList(); captured = (string)p[0].Value; return p; }).CallAsync(g => GetInfo(g, key));
        Assert.Equal(1000, (await Hostile.With(Forges.Fixed(CallProof.RequestContextKey, captured!)).CallAsync(g => GetInfo(g, key))).Size);
        await DeniedAsync("a captured proof replayed on another object", () => Hostile.With(Forges.Fixed(CallProof.RequestContextKey, captured!)).CallAsync(g => GetInfo(g, other)));
    }

    [Fact]
    public async Task GrainCall_WithAForgedSiloSignature_IsRefused()
    {
        string key = NewObject("team-a/silo-sig/", 1000);
        var attacks = new (string What, Forge Forge)[]
        {
            ("a silo signature with a made-up MAC", Forges.Fixed("oss-silo", $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}:{Tokens.Encode(RandomNumberGenerator.GetBytes(32))}")),
            ("an empty silo signature", Forges.Fixed("oss-silo", "")),
            ("a silo signature made with a guessed cluster secret", Forges.SiloSignature(new string('0', 64))),
            ("a silo signature made with the cluster secret 200 s ago", Forges.SiloSignature(cluster.ClusterSecret, () => DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 200)),
            // A bad silo signature is refused outright, even beside a valid tenant proof: no falling back to the tenant.
            ("a bad silo signature beside team-a's valid proof", Forges.Both(Forges.Proof(TeamA, cluster.TeamASecret), Forges.SiloSignature(new string('1', 64)))),
        };
        foreach (var (what, forge) in attacks)
        {
            await DeniedAsync($"{what} on a public grain", () => Hostile.With(forge).CallAsync(g => GetInfo(g, key)));
            await DeniedAsync($"{what} on an internal grain", () => Hostile.With(forge).CallAsync(g => g.GetGrain<IObjectGrain>(ObjectAt(key).ToGrainKey()).InvalidateAsync()));
        }

        // The control: made with the real cluster secret (which only silos have), the same forgery goes through as a
        // silo's; so the refusals above are about the secret, not about the form of the signature.
        await Hostile.With(Forges.SiloSignature(cluster.ClusterSecret)).CallAsync(g => g.GetGrain<IObjectGrain>(ObjectAt(key).ToGrainKey()).InvalidateAsync());
    }

    [Fact]
    public async Task InternalGrains_CalledByTenantsEvenAdmin_AreRefused_AndReadersAreUnaffected()
    {
        string key = NewObject("team-a/internal/", (2 * ShardSize) + 100);
        byte[] sha = cluster.OriginSha256(key);
        var info = await cluster.ClientA.StatAsync(UriText(key));
        string shardKey = info.Shard(0).ToGrainKey();

        // A seed order whose receipt points at the attacker's own server: were it adopted, the honest reader below would
        // get the attacker's bytes (their CRC is in the receipt, so a CRC check alone would not catch them).
        var evil = new byte[ShardSize];
        Random.Shared.NextBytes(evil);
        await using var fake = await FakeDataPlane.StartAsync(evil);
        var receipt = new StagedShard(0, "S127.0.0.1:1:1", fake.Url, 42, ShardSize, Crc64Xz.Compute(evil), 1, "\"etag\"", ShardSize, Tokens.Encode(new byte[32]));
        var order = new SeedOrder(receipt, "up|x|1|0", info.Size, 0);
        var progress = new WarmJobProgress($"{TeamB}/fake-job", UriText("team-b/"), WarmJobState.Completed, 1, 1, 1, 1, 1, null, DateTimeOffset.UtcNow, null);

        foreach (var (tenant, secret) in new[] { (TeamA, cluster.TeamASecret), (AdminTenant, cluster.AdminSecret) })
        {
            var caller = Hostile.As(tenant, secret);
            await DeniedAsync($"{tenant}: IShardSeedGrain.SeedAsync", () => caller.CallAsync(g => g.GetGrain<IShardSeedGrain>(shardKey).SeedAsync(order)));
            await DeniedAsync($"{tenant}: IShardControlGrain.DiscardAsync", () => caller.CallAsync(g => g.GetGrain<IShardControlGrain>(shardKey).DiscardAsync("attack")));
            await DeniedAsync($"{tenant}: IObjectGrain.InvalidateAsync", () => caller.CallAsync(g => g.GetGrain<IObjectGrain>(info.Uri.ToGrainKey()).InvalidateAsync()));
            await DeniedAsync($"{tenant}: IWarmJobReportGrain.ReportAsync", () => caller.CallAsync(g => g.GetGrain<IWarmJobReportGrain>(0).ReportAsync(progress)));
            await DeniedAsync($"{tenant}: IManagementGrain.GetHosts", () => caller.CallAsync(g => g.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)));
        }
        // Cluster statistics are for admins.
        var teamA = Hostile.As(TeamA, cluster.TeamASecret);
        var silos = await Hostile.As(AdminTenant, cluster.AdminSecret).CallAsync(g => g.GetGrain<IClusterStatsGrain>(0).GetSilosAsync());
        Assert.Equal(3, silos.Count);
        await DeniedAsync("team-a: IClusterStatsGrain.GetSilosAsync", () => teamA.CallAsync(g => g.GetGrain<IClusterStatsGrain>(0).GetSilosAsync()));
        await DeniedAsync("team-a: ISiloStatsGrain.GetStatsAsync", () => teamA.CallAsync(g => g.GetGrain<ISiloStatsGrain>(silos[0].Silo).GetStatsAsync()));
        await DeniedAsync("team-a: ISiloStatsGrain.GetCachedShardsAsync", () => teamA.CallAsync(g => g.GetGrain<ISiloStatsGrain>(silos[0].Silo).GetCachedShardsAsync(Bucket, "", 10)));

        // The honest reader gets the origin's bytes, and the silos never went to the attacker's server.
        Assert.Equal(sha, await ReadSha256Async(cluster.ClientA, key));
        Assert.Equal(0, fake.Requests);
        // The registry shows team-b no job it did not start.
        Assert.DoesNotContain(await cluster.ClientB.ListWarmJobsAsync(), j => j.JobId == progress.JobId);
    }

    [Fact]
    public async Task EnsureLoaded_WithAWrongObjectSize_IsRefused_AndHonestReadsStayExact()
    {
        // The attack of issue #12: EnsureLoadedAsync(1000) on shard 0 of a 4 MiB object planted a 1,000-byte shard 0, and
        // every honest read of the object failed from then on. Made by team-a, which may read the object: the check is not
        // a grant, it is the origin's answer.
        string key = NewObject("team-a/size/", (4 * ShardSize) + 123);
        byte[] sha = cluster.OriginSha256(key);
        var info = await cluster.ClientA.StatAsync(UriText(key));
        var teamA = Hostile.As(TeamA, cluster.TeamASecret);
        foreach (var (index, claimed) in new (int, long)[] { (0, 1000), (0, ShardSize), (4, info.Size - 100), (4, info.Size + 100), (1, 3L << 30), (0, 0), (0, -1), (9, info.Size) })
        {
            await Assert.ThrowsAnyAsync<Exception>(() => teamA.CallAsync(g => g.GetGrain<IShardGrain>(info.Shard(index).ToGrainKey()).EnsureLoadedAsync(claimed)));
        }

        // Nothing was cached for the object, at any length.
        Assert.Empty(await cluster.CachedShardsAsync(key));
        Assert.Equal(sha, await ReadSha256Async(cluster.ClientA, key));
        Assert.All(await cluster.CachedShardsAsync(key), s => Assert.Equal(info.Shard(s.Index).LengthIn(info.Size), s.Bytes));

        // ossctl reads it too, exactly (the ossctl died with an unhandled InvalidDataException here).
        var run = await CtlRunner.RunAsync(cluster, TeamA, cluster.TeamASecret, "cat", UriText(key));
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Equal(sha, SHA256.HashData(run.Stdout));
    }

    [Fact]
    public async Task ShardKeys_WithAnotherShardSizeOrMalformed_AreRefused_WithoutAllocating()
    {
        string key = NewObject("team-a/shard-size/", (2 * ShardSize) + 5);
        byte[] sha = cluster.OriginSha256(key);
        var info = await cluster.ClientA.StatAsync(UriText(key));
        var teamA = Hostile.As(TeamA, cluster.TeamASecret);
        long[] rssBefore = cluster.SiloRss();

        // Shard sizes the cluster does not use, up to the largest array there is; each with an object size that would make
        // the shard that large. A silo that believed them would rent a buffer of that size.
        foreach (int shardSize in new[] { 1 << 30, Array.MaxLength, int.MaxValue, 1000, ShardSize * 2 })
        {
            var id = new ShardId(info.Uri, info.ETag, shardSize, 0);
            await Assert.ThrowsAnyAsync<Exception>(() => teamA.CallAsync(g => g.GetGrain<IShardGrain>(id.ToGrainKey()).EnsureLoadedAsync(Math.Max(shardSize, info.Size))));
            await Assert.ThrowsAnyAsync<Exception>(() => teamA.CallAsync(g => g.GetGrain<IShardGrain>(id.ToGrainKey()).EnsureLoadedAsync(info.Size)));
        }
        // Malformed keys, a negative index, a version that does not exist. (A malformed key fails the grain's activation,
        // which Orleans runs before any call filter: refused, with a FormatException rather than an access denial.)
        string tail = $"|{info.ETag.Length}:{info.ETag}|{Bucket}/{key}";
        foreach (string bad in new[] { $"{ShardSize}|-1{tail}", $"-{ShardSize}|0{tail}", $"{ShardSize}|0|999:x|{Bucket}/{key}", "garbage" })
            await Assert.ThrowsAnyAsync<Exception>(() => teamA.CallAsync(g => g.GetGrain<IShardGrain>(bad).EnsureLoadedAsync(info.Size)));
        var otherVersion = new ShardId(info.Uri, "\"not-the-etag\"", ShardSize, 0);
        await Assert.ThrowsAnyAsync<Exception>(() => teamA.CallAsync(g => g.GetGrain<IShardGrain>(otherVersion.ToGrainKey()).EnsureLoadedAsync(info.Size)));

        // No silo grew by anything like the sizes claimed (loosely: other tests' reads come and go).
        long[] rssAfter = cluster.SiloRss();
        for (int i = 0; i < rssAfter.Length; i++)
            Assert.True(rssAfter[i] < rssBefore[i] + (256L << 20), $"silo {i} grew from {rssBefore[i] >> 20} MiB to {rssAfter[i] >> 20} MiB");
        Assert.Empty(await cluster.CachedShardsAsync(key));
        Assert.Equal(sha, await ReadSha256Async(cluster.ClientA, key));
    }

    [Fact]
    public async Task EnsureLoaded_OnAnotherTenantsObject_IsRefused()
    {
        string key = NewObject("team-b/foreign/", 1000);
        var info = await cluster.ClientB.StatAsync(UriText(key));
        await DeniedAsync("team-a loading team-b's shard", () => Hostile.As(TeamA, cluster.TeamASecret).CallAsync(g => g.GetGrain<IShardGrain>(info.Shard(0).ToGrainKey()).EnsureLoadedAsync(info.Size)));
        await DeniedAsync("team-a prefetching team-b's object", () => Hostile.As(TeamA, cluster.TeamASecret).CallAsync(g => g.GetGrain<IObjectGrain>(info.Uri.ToGrainKey()).PrefetchAsync(info.ETag, 0, info.Size)));
        await DeniedAsync("team-a reading team-b's metadata", () => Hostile.As(TeamA, cluster.TeamASecret).CallAsync(g => GetInfo(g, key)));
        Assert.Empty(await cluster.CachedShardsAsync(key));
    }

    [Fact]
    public async Task DatasetRun_WithFakeSizesOrForeignItemsOrKeys_IsRefused_AndHonestReadsStayExact()
    {
        string small = NewObject("team-a/ds/", 300_000);
        string big = NewObject("team-a/ds/", (3 * ShardSize) + 7);
        string foreign = NewObject("team-b/ds/", 1000);
        var smallInfo = await cluster.ClientA.StatAsync(UriText(small));
        var bigInfo = await cluster.ClientA.StatAsync(UriText(big));
        var foreignInfo = await cluster.ClientB.StatAsync(UriText(foreign));
        var teamA = Hostile.As(TeamA, cluster.TeamASecret);
        string run = DatasetKeys.ForSource(TeamA, "attack", Guid.NewGuid().ToString()) + "/0";
        Task<DatasetItemLocation[]> Load(string runKey, int shardSize, params DatasetItemRecord[] items) =>
            teamA.CallAsync(g => g.GetGrain<IDatasetRunGrain>(runKey).LoadAsync(Bucket, shardSize, items));

        // Sizes the origin contradicts: the items fail, nothing is cached.
        var loaded = await Load(run, ShardSize,
            new DatasetItemRecord(small, 1000, smallInfo.ETag, null),
            new DatasetItemRecord(big, ShardSize, bigInfo.ETag, null),
            new DatasetItemRecord(small, smallInfo.Size, "\"not-the-etag\"", null));
        Assert.All(loaded, l => Assert.NotEqual(DatasetItemStatus.Loaded, l.Status));
        Assert.Empty(await cluster.CachedShardsAsync(small));
        Assert.Empty(await cluster.CachedShardsAsync(big));

        // Not the cluster's shard size, items larger than a shard, another tenant's object or run.
        await Assert.ThrowsAnyAsync<Exception>(() => Load(run, 1 << 30, new DatasetItemRecord(small, smallInfo.Size, smallInfo.ETag, null)));
        await Assert.ThrowsAnyAsync<Exception>(() => Load(run, ShardSize, new DatasetItemRecord(big, bigInfo.Size, bigInfo.ETag, null)));
        await DeniedAsync("a run item of team-b", () => Load(run, ShardSize, new DatasetItemRecord(foreign, 1000, foreignInfo.ETag, null)));
        string teamBRun = DatasetKeys.ForSource(TeamB, "attack", Guid.NewGuid().ToString()) + "/0";
        await DeniedAsync("team-b's run", () => Load(teamBRun, ShardSize, new DatasetItemRecord(small, smallInfo.Size, smallInfo.ETag, null)));
        await DeniedAsync("team-b's dataset", () => teamA.CallAsync(g => g.GetGrain<IDatasetGrain>(DatasetKeys.ForSource(TeamB, "x")).OpenAsync("attacker", 60)));
        Assert.Empty(await cluster.CachedShardsAsync(foreign));

        // The control: the true size loads, and the honest reads of both objects are exact.
        var good = await Load(run, ShardSize, new DatasetItemRecord(small, smallInfo.Size, smallInfo.ETag, null));
        Assert.Equal(DatasetItemStatus.Loaded, good[0].Status);
        Assert.Equal(smallInfo.Size, good[0].Location!.Length);
        Assert.Equal(cluster.OriginSha256(small), await ReadSha256Async(cluster.ClientA, small));
        Assert.Equal(cluster.OriginSha256(big), await ReadSha256Async(cluster.ClientA, big));
    }

    [Fact]
    public async Task RefusedCalls_LeaveNoGrainActivationsBehind()
    {
        // What the operator sees (the management grain, called as a silo: the test holds the cluster secret).
        var operatorView = Hostile.With(Forges.SiloSignature(cluster.ClusterSecret));
        async Task<int> ActivationsAsync(string grainClass) =>
            (await operatorView.CallAsync(g => g.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics()))
                .Where(s => s.GrainType.Contains(grainClass, StringComparison.Ordinal)).Sum(s => s.ActivationCount);

        // Calls without any credentials, each refused, to grains keyed as the caller likes. The warm-job registry keeps
        // its activations for a year (it is meant to be the one of key 0), so whatever such calls leave stays.
        int before = await ActivationsAsync("WarmJobRegistryGrain");
        long first = Random.Shared.NextInt64(1, long.MaxValue - 100);
        for (int i = 0; i < 20; i++)
            await DeniedAsync("an unauthenticated registry call", () => Hostile.With(Forges.Nothing).CallAsync(g => g.GetGrain<IWarmJobRegistryGrain>(first + i).ListAsync()));
        // Let go as the refusals happen; deactivation itself takes a moment.
        int after = await ActivationsAsync("WarmJobRegistryGrain");
        for (var deadline = DateTime.UtcNow.AddSeconds(10); after != before && DateTime.UtcNow < deadline; after = await ActivationsAsync("WarmJobRegistryGrain"))
            await Task.Delay(100);
        Assert.True(after == before, $"20 refused, unauthenticated calls left {after - before} warm-job registry activations behind (which live a year each): a refused call must cost nothing");
    }
}
