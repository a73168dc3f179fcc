using System.Security.Cryptography;
using OssOrleans.Client;
using static OssOrleans.IntegrationTests.Security.SecurityAssert;
using static OssOrleans.IntegrationTests.Security.SecurityClusterFixture;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// Team-a holds read, list and write on <c>oss://shared/team-a/</c>, team-b the same on <c>team-b/</c>. Team-a, through the
/// client library, ossctl and raw grain calls signed with its own valid key, tries to stat, read, list, warm, prepare and
/// overwrite team-b's objects and to reach team-b's jobs, uploads and datasets by key: all refused, and team-b's
/// objects stay exactly as they were. A listing of the bucket's root shows team-a nothing of team-b's.
/// </summary>
[Collection(SecurityClusterCollection.Name)]
public sealed class TenantIsolationTests(SecurityClusterFixture cluster)
{
    private const string Weights = "team-b/model/weights.bin";

    [Fact]
    public async Task ClientApi_TeamATouchingTeamBsPrefix_IsRefused_AndTeamBsObjectIsUnchanged()
    {
        var a = cluster.ClientA;
        byte[] sha = cluster.OriginSha256(Weights);
        await DeniedAsync("stat", () => a.StatAsync(UriText(Weights)));
        await DeniedAsync("open", () => a.OpenReadAsync(UriText(Weights)));
        await DeniedAsync("read a range", () => a.ReadRangeAsync(UriText(Weights), 0, new byte[100]));
        await DeniedAsync("list team-b/", () => a.ListAsync(UriText("team-b/")).ToListAsync().AsTask());
        await DeniedAsync("list team-b/ plainly", () => a.ListAsync(UriText("team-b/"), new ListOptions { Fast = false }).ToListAsync().AsTask());
        await DeniedAsync("list 'team-b' (no slash)", () => a.ListAsync(UriText("team-b")).ToListAsync().AsTask());
        await DeniedAsync("warm team-b/", () => a.WarmAsync(UriText("team-b/")));
        await DeniedAsync("warm the whole bucket", () => a.WarmAsync(UriText("")));
        await DeniedAsync("overwrite", () => a.OpenWriteAsync(UriText(Weights)));
        await DeniedAsync("write beside", () => a.OpenWriteAsync(UriText("team-b/model/planted.bin")));
        // A key that starts with team-a's prefix but climbs out of it: an S3 origin keeps it as a literal key, the local
        // origin refuses it; neither way does it reach team-b's object.
        await Assert.ThrowsAnyAsync<Exception>(() => a.StatAsync(UriText("team-a/../" + Weights)));
        await Assert.ThrowsAnyAsync<Exception>(async () => { await using var w = await a.OpenWriteAsync(UriText("team-a/../" + Weights)); await w.WriteAsync(new byte[10]); await w.CompleteAsync(); });

        string dir = Path.Combine(cluster.WorkDirectory, "prepare-" + Guid.NewGuid().ToString("N"));
        await DeniedAsync("prepare team-b's model directory", () => a.PrepareDirectoryAsync(UriText("team-b/model/"), dir));
        Assert.True(!Directory.Exists(dir) || Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Length == 0, "prepare-dir wrote files of team-b's");

        Assert.Equal(sha, cluster.OriginSha256(Weights));
        Assert.False(File.Exists(cluster.OriginPath("team-b/model/planted.bin")));
        Assert.Equal(sha, await ReadSha256Async(cluster.ClientB, Weights));
    }

    [Fact]
    public async Task Ctl_TeamATouchingTeamBsPrefix_IsExit4WithOneLine()
    {
        string local = Path.Combine(cluster.WorkDirectory, "ctl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(local);
        string file = Path.Combine(local, "payload.bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(1000));
        byte[] sha = cluster.OriginSha256(Weights);
        string[][] commands =
        [
            ["stat", UriText(Weights)],
            ["cat", UriText(Weights)],
            ["get", "--quiet", UriText(Weights), Path.Combine(local, "stolen.bin")],
            ["ls", UriText("team-b/")],
            ["ls", "--fast", "--recursive", UriText("team-b/list/")],
            ["warm", "--detach", "--quiet", UriText("team-b/")],
            ["prepare-dir", "--quiet", UriText("team-b/model/"), Path.Combine(local, "model")],
            ["put", "--quiet", file, UriText(Weights)],
        ];
        foreach (var command in commands)
        {
            var run = await CtlRunner.RunAsync(cluster, TeamA, cluster.TeamASecret, command);
            string shown = string.Join(' ', command);
            Assert.True(run.Code == 4, $"ossctl {shown}: exit {run.Code}, expected 4 (access denied); stderr: {run.Stderr}");
            var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1 && lines[0].StartsWith("ossctl: access denied:", StringComparison.Ordinal), $"ossctl {shown}: stderr was\n{run.Stderr}");
            Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(cluster.TeamASecret, run.Stderr, StringComparison.Ordinal);
            Assert.Empty(run.Stdout);
        }
        Assert.False(File.Exists(Path.Combine(local, "stolen.bin")));
        Assert.False(Directory.Exists(Path.Combine(local, "model")) && Directory.EnumerateFileSystemEntries(Path.Combine(local, "model"), "*", SearchOption.AllDirectories).Any());
        Assert.Equal(sha, cluster.OriginSha256(Weights));

        // Team-b's own ossctl reads it, exactly.
        var own = await CtlRunner.RunAsync(cluster, TeamB, cluster.TeamBSecret, "cat", UriText(Weights));
        Assert.True(own.Code == 0, own.Stderr);
        Assert.Equal(sha, SHA256.HashData(own.Stdout));
    }

    [Fact]
    public async Task ListingTheBucketRoot_AsTeamA_ShowsOnlyTeamAsKeys()
    {
        var a = cluster.ClientA;
        var partitions = new List<ListPartitionKey>();
        foreach (var options in new[]
        {
            new ListOptions { OnPartition = p => { lock (partitions) partitions.Add(p); } },
            new ListOptions { Sorted = true },
            new ListOptions { Fast = false },
            new ListOptions { Delimiter = "/" },
            new ListOptions { Delimiter = "/", Fast = false },
        })
        {
            var entries = await a.ListAsync(UriText(""), options).ToListAsync();
            Assert.Contains(entries, e => e.Key.StartsWith("team-a/", StringComparison.Ordinal));
            Assert.All(entries, e => Assert.True(e.Key.StartsWith("team-a/", StringComparison.Ordinal), $"team-a's listing of the root (fast {options.Fast}, delimiter '{options.Delimiter}') shows '{e.Key}'"));
        }
        // A partial prefix ("team-") is listed too, filtered the same way.
        Assert.All(await a.ListAsync(UriText("team-")).ToListAsync(), e => Assert.StartsWith("team-a/", e.Key, StringComparison.Ordinal));

        // The same root as a tenant that may list the whole bucket lists it splits into partitions, so team-a's filtered copy was read across partitions
        // that straddle the tenants' prefixes (by the silo: team-a is handed none of their bounds), and it is complete.
        var adminPartitions = new List<ListPartitionKey>();
        await using var lister = await cluster.ConnectAsync(Lister, cluster.ListerSecret);
        var all = await lister.ListAsync(UriText(""), new ListOptions { Sorted = true, OnPartition = p => { lock (adminPartitions) adminPartitions.Add(p); } }).ToListAsync();
        Assert.True(adminPartitions.Count > 1, $"the full root listing did not split (partitions: {string.Join("; ", adminPartitions)}); the test needs a split listing");
        Assert.Contains(all, e => e.Key.StartsWith("team-b/", StringComparison.Ordinal));
        var expected = all.Where(e => e.Key.StartsWith("team-a/", StringComparison.Ordinal)).Select(e => e.Key).ToList();
        var seenByA = (await a.ListAsync(UriText(""), new ListOptions { Sorted = true }).ToListAsync()).Select(e => e.Key).ToList();
        Assert.Equal(expected, seenByA);
        Assert.All(partitions, p => Assert.True(p.StartAfter is null && p.EndAt is null, $"team-a was handed a partition with bounds: {p}"));

        var ctl = await CtlRunner.RunAsync(cluster, TeamA, cluster.TeamASecret, "--json", "ls", "--fast", "--recursive", UriText(""));
        Assert.True(ctl.Code == 0, ctl.Stderr);
        Assert.DoesNotContain("team-b", ctl.Text, StringComparison.Ordinal);
        Assert.Contains("team-a/000-list/a-0000.txt", ctl.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TeamA)]
    [InlineData(Auditor)]
    public async Task ListPartitions_ReadRawly_GiveNoNameUnderTeamB_NotEvenAsAResumePointOrBound(string tenant)
    {
        // A tenant with its own valid key, but reading the partition grains itself: every chunk's entries, its last key
        // (where a resumed read restarts) and the bounds of the partitions it splits off. Team-a's prefix lies before
        // team-b's; the auditor may list team-a's and team-c's, on both sides of it.
        var caller = cluster.Hostile.As(tenant, tenant == TeamA ? cluster.TeamASecret : cluster.AuditorSecret);
        foreach (bool fast in new[] { true, false })
        {
            var seen = new List<(string Where, string? Value)>();
            var queue = new Queue<ListPartitionKey>([ListPartitionKey.Root(ObjectAt(""), null, fast)]);
            int partitions = 0;
            while (queue.TryDequeue(out var partition))
            {
                partitions++;
                await caller.CallAsync(async g =>
                {
                    await foreach (var chunk in g.GetGrain<IListPartitionGrain>(partition.ToGrainKey()).ListAsync())
                    {
                        seen.AddRange(chunk.ReadEntries().Select(e => ("entry", (string?)e.Key)));
                        seen.Add(("last key", chunk.LastKey));
                        foreach (var child in chunk.Children)
                        {
                            seen.Add(("child start-after", child.StartAfter));
                            seen.Add(("child end-at", child.EndAt));
                            queue.Enqueue(child);
                        }
                    }
                });
            }
            Assert.Contains(seen, s => s.Value?.StartsWith("team-a/", StringComparison.Ordinal) == true);
            // The listing splits (the test above shows it), but the silo reads the parts itself for a tenant that
            // sees only some of the root: no child partition, so no bound, reaches the tenant.
            Assert.Equal(1, partitions);
            var leaks = seen.Where(x => x.Value?.StartsWith("team-b", StringComparison.Ordinal) == true).Select(x => $"{x.Where} '{x.Value}'").Distinct().ToList();
            Assert.True(leaks.Count == 0, $"{tenant}'s {(fast ? "fast" : "plain")} listing of the root ({partitions} partitions) gives names under team-b's prefix: {string.Join(", ", leaks.Take(20))}");
        }

        // Asking directly for partitions inside team-b's range is refused, whatever bounds are picked.
        foreach (var key in new[]
        {
            ListPartitionKey.Root(ObjectAt("team-b/"), null, true),
            new ListPartitionKey(Bucket, "team-b/list/", null, false, startAfter: "team-b/list/secret-name-0010.txt"),
            new ListPartitionKey(Bucket, "team-b", "/", true),
        })
        {
            await DeniedAsync($"listing {key}", () => caller.CallAsync(async g => { await foreach (var _ in g.GetGrain<IListPartitionGrain>(key.ToGrainKey()).ListAsync()) { } }));
        }
    }

    [Fact]
    public async Task JobsUploadsAndDatasets_OfTeamB_AreOutOfTeamAsReach()
    {
        // Team-b warms its prefix; team-a knows the job's id (ids are no secret: they appear in logs and dashboards).
        var job = await cluster.ClientB.WarmAsync(UriText("team-b/model/"));
        var teamA = cluster.Hostile.As(TeamA, cluster.TeamASecret);
        await DeniedAsync("team-a reading team-b's job", () => cluster.ClientA.GetWarmJob(job.JobId).GetProgressAsync());
        await DeniedAsync("team-a cancelling team-b's job", () => cluster.ClientA.GetWarmJob(job.JobId).CancelAsync());
        await DeniedAsync("team-a starting a job under team-b's key", () => teamA.CallAsync(g => g.GetGrain<IWarmJobGrain>(TenantKeys.Owned(TeamB, "planted")).StartAsync(ObjectAt("team-a/"), 1)));
        await DeniedAsync("team-a starting a job of its own on team-b's prefix", () => teamA.CallAsync(g => g.GetGrain<IWarmJobGrain>(TenantKeys.Owned(TeamA, Guid.NewGuid().ToString("N"))).StartAsync(ObjectAt("team-b/"), 1)));
        Assert.DoesNotContain(await cluster.ClientA.ListWarmJobsAsync(), j => j.JobId.StartsWith(TeamB + "/", StringComparison.Ordinal));
        Assert.Contains(await cluster.ClientB.ListWarmJobsAsync(), j => j.JobId == job.JobId);
        Assert.Equal(WarmJobState.Completed, (await job.WaitAsync(pollInterval: TimeSpan.FromMilliseconds(100))).State);

        // Uploads: team-b's upload grain, and team-b's session on team-a's own grain.
        var session = await cluster.Hostile.As(TeamB, cluster.TeamBSecret).CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamB, Guid.NewGuid().ToString("N"))).StartAsync(ObjectAt(Weights), false, 1));
        byte[] sha = cluster.OriginSha256(Weights);
        await DeniedAsync("team-a completing team-b's upload through team-b's grain", () => teamA.CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamB, "any")).CompleteAsync(session, [new UploadedPartInfo(1, "\"x\"", 10)], [])));
        await DeniedAsync("team-a completing team-b's session through its own grain", () => teamA.CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamA, "mine")).CompleteAsync(session, [new UploadedPartInfo(1, "\"x\"", 10)], [])));
        await DeniedAsync("team-a aborting team-b's session through its own grain", () => teamA.CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamA, "mine")).AbortAsync(session)));
        await DeniedAsync("team-a starting an upload on team-b's grain", () => teamA.CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamB, "planted")).StartAsync(ObjectAt("team-a/x.bin"), false, 1)));
        await DeniedAsync("team-a starting an upload of team-b's object", () => teamA.CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamA, Guid.NewGuid().ToString("N"))).StartAsync(ObjectAt(Weights), false, 1)));
        await DeniedAsync("an upload grain key without an owner", () => teamA.CallAsync(g =>
            g.GetGrain<IUploadGrain>(Guid.NewGuid().ToString("N")).StartAsync(ObjectAt("team-a/x.bin"), false, 1)));
        Assert.Equal(sha, cluster.OriginSha256(Weights));

        // Datasets: team-b's snapshot and runs, by key.
        string dataset = DatasetKeys.ForSource(TeamB, "prefix", UriText("team-b/list/"));
        await DeniedAsync("team-a opening team-b's dataset", () => teamA.CallAsync(g => g.GetGrain<IDatasetGrain>(dataset).OpenAsync("intruder", 30)));
        await DeniedAsync("team-a reading a page of team-b's dataset", () => teamA.CallAsync(g => g.GetGrain<IDatasetGrain>(dataset).GetPageAsync(0)));
        await DeniedAsync("team-a loading from team-b's run", () => teamA.CallAsync(g => g.GetGrain<IDatasetRunGrain>(dataset + "/0").LoadAsync(Bucket, ShardSize, [])));
    }
}
