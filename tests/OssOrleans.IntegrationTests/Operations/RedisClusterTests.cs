using System.Security.Cryptography;
using System.Text.Json;
using Xunit.Abstractions;
using OssOrleans.Client;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Operations;

/// <summary>
/// Three real silo processes clustered through a real redis-server, reading from real s3rver: one silo is killed with
/// SIGKILL in the middle of a read, and the read still returns the exact bytes.
/// </summary>
public sealed class RedisClusterTests(ITestOutputHelper output)
{
    private const int ShardSize = 1 << 20;

    [SkippableFact]
    public async Task Read_SiloKilledMidRead_CompletesWithExactBytesAndClusterShrinksToTwo()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string name) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {name}");
        Skip.If(RedisServerProcess.FindExecutable() is null, "redis-server is not installed (tests/install-test-deps.sh installs it as root; .ci/run does)");
        await using var redis = await RedisServerProcess.StartAsync();
        await using var s3rver = await S3rverProcess.StartAsync("fleet");
        var data = new byte[(24 * ShardSize) + 12345];
        Random.Shared.NextBytes(data);
        using (var seeding = new S3ObjectStore(new S3StoreOptions { Endpoint = s3rver.Endpoint.ToString(), AccessKeyId = s3rver.AccessKeyId, AccessKeySecret = s3rver.SecretAccessKey }))
            await seeding.PutAsync("fleet", "models/big.bin", data);

        string clusterId = "redis-test-" + Guid.NewGuid().ToString("N")[..8];
        string[] args =
        [
            "--cluster-mode", "Redis", "--redis", redis.ConnectionString, "--Cluster:ClusterId=" + clusterId,
            "--Auth:ClusterSecret=" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            "--origin", "S3", "--endpoint", s3rver.Endpoint.ToString(),
            "--Origin:S3:AccessKeyId=" + s3rver.AccessKeyId, "--Origin:S3:AccessKeySecret=" + s3rver.SecretAccessKey,
            $"--Cache:ShardSize={ShardSize}",
            // Declare a killed silo dead within seconds instead of Orleans' production defaults.
            "--Cluster:Membership:ProbeTimeout=00:00:01", "--Cluster:Membership:NumMissedProbesLimit=2",
        ];
        var silos = new List<SiloProcess>();
        try
        {
            // Started together: Orleans membership in Redis handles concurrent joins.
            var starting = Enumerable.Range(0, 3).Select(_ => SiloProcess.StartAsync(args)).ToList();
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                silos.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }

            Phase("3 silos started");
            var options = new OssClientOptions { ClusterId = clusterId, ReadAheadShards = 2 };
            options.Gateways.Clear();
            foreach (var s in silos)
                options.Gateways.Add(s.Gateway);
            await using var client = await OssCacheClient.ConnectAsync(options);
            await Poll.UntilAsync("3 silos in the cluster", () => client.GetClusterStatsAsync(), s => s.Count == 3, TimeSpan.FromSeconds(60));

            Phase("client sees 3 silos");
            await using var stream = await client.OpenReadAsync("oss://fleet/models/big.bin");
            var read = new byte[data.Length];
            int half = data.Length / 3;
            await stream.ReadExactlyAsync(read.AsMemory(0, half));

            // Kill the silo holding the most shards of the object (the open already prefetched them across the cluster).
            using var admin = new AdminHttp(silos[0].HttpPort);
            var residency = await Poll.UntilAsync("shards of the object resident in the cluster",
                () => admin.GetJsonAsync("/admin/api/objects?prefix=oss://fleet/models/"),
                j => j.GetProperty("objects").GetArrayLength() == 1, TimeSpan.FromSeconds(30));
            var perSilo = residency.GetProperty("objects")[0].GetProperty("shardsPerSilo").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetInt32());
            var victim = silos.MaxBy(s => perSilo.Where(p => p.Key.Contains($":{s.SiloPort}@", StringComparison.Ordinal)).Sum(p => p.Value))!;
            Assert.True(perSilo.Any(p => p.Key.Contains($":{victim.SiloPort}@", StringComparison.Ordinal)),
                $"no silo port matched the residency keys {string.Join(", ", perSilo.Keys)}");
            victim.Kill();
            Phase("victim killed");

            await stream.ReadExactlyAsync(read.AsMemory(half));
            Assert.Equal(0, await stream.ReadAsync(new byte[1]));
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(read));

            Phase("read completed");
            var survivors = silos.Where(s => s != victim).ToList();
            await Poll.UntilAsync("the client to see 2 active silos", () => client.GetClusterStatsAsync(), s => s.Count == 2, TimeSpan.FromSeconds(60));
            Phase("client sees 2 silos");
            using var survivorAdmin = new AdminHttp(survivors[0].HttpPort);
            var cluster = await Poll.UntilAsync("the admin API to report 2 active silos",
                () => survivorAdmin.GetJsonAsync("/admin/api/cluster"), j => j.GetProperty("activeSilos").GetInt32() == 2, TimeSpan.FromSeconds(60));
            Assert.Equal("Redis", cluster.GetProperty("mode").GetString());
            Assert.DoesNotContain(s3rver.SecretAccessKey, cluster.GetRawText(), StringComparison.Ordinal);
            Assert.Contains(cluster.GetProperty("silos").EnumerateArray(),
                s => s.GetProperty("address").GetString()!.Contains($":{victim.SiloPort}@", StringComparison.Ordinal) && s.GetProperty("status").GetString() != "Active");

            Phase("admin API reports 2 silos");
            // A second full read after the loss is still exact.
            await using var again = await client.OpenReadAsync("oss://fleet/models/big.bin");
            using var ms = new MemoryStream();
            await again.CopyToAsync(ms);
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(ms.ToArray()));
            Phase("second read completed");
        }
        catch (Exception ex) when (ex is not SkipException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- silo output ---\n{string.Join("\n---\n", silos.Select(s => s.Output[^Math.Min(4000, s.Output.Length)..]))}\n{ex}");
        }
        finally
        {
            foreach (var s in silos)
                await s.DisposeAsync();
        }
    }
}
