using System.Net;
using System.Text;
using System.Text.Json;
using OssOrleans.IntegrationTests.Operations;
using static OssOrleans.IntegrationTests.Security.SecurityAssert;
using static OssOrleans.IntegrationTests.Security.SecurityClusterFixture;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// What no access check covers: bytes altered between a data plane and a client (the client's CRC-64 check refuses them),
/// what the audit log keeps (who did what, never a secret or token), and the admin API's door (admins only).
/// </summary>
[Collection(SecurityClusterCollection.Name)]
public sealed class IntegrityAndAuditTests(SecurityClusterFixture cluster) : IDisposable
{
    private readonly RawHttp _http = new();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Read_BytesAlteredOnTheWayFromTheDataPlane_AreRefused_NeverHandedOut()
    {
        string key = $"team-a/mitm/{Guid.NewGuid():N}.bin";
        cluster.PutOrigin(key, (2 * ShardSize) + 5);
        byte[] sha = cluster.OriginSha256(key);
        // Readers over TCP (through the proxies on the advertised address), one of them without the CRC check.
        await using var reader = await cluster.ConnectAsync(TeamA, cluster.TeamASecret, o => o.UseLocalSocket = false);
        await using var careless = await cluster.ConnectAsync(TeamA, cluster.TeamASecret, o => { o.UseLocalSocket = false; o.VerifyCrc = false; });
        Assert.Equal(sha, await ReadSha256Async(reader, key));

        foreach (var p in cluster.Proxies)
            p.FlipBytes = true;
        try
        {
            long flippedBefore = cluster.Proxies.Sum(p => p.Flipped);
            byte[]? got = null;
            var refused = await Record.ExceptionAsync(async () => got = await ReadSha256Async(reader, key));
            Assert.True(refused is OssIntegrityException,
                $"a read through the altering network gave {(refused is null ? (got!.AsSpan().SequenceEqual(sha) ? "the right bytes" : "WRONG bytes") : refused.ToString())}; {cluster.Proxies.Sum(p => p.Flipped) - flippedBefore} bytes were altered meanwhile");
            // A range across two shards (large enough that the proxy alters it: it leaves small reads alone).
            await Assert.ThrowsAsync<OssIntegrityException>(() => reader.ReadRangeAsync(UriText(key), ShardSize - 10_000, new byte[20_000]));
            // The control: without the check the same read hands out wrong bytes, so the alteration is real and the check is
            // what stops it.
            Assert.NotEqual(sha, await ReadSha256Async(careless, key));
            Assert.True(cluster.Proxies.Sum(p => p.Flipped) > 0);
            // Readers on the silos' machine read over their Unix sockets, not through the network: unaffected.
            Assert.Equal(sha, await ReadSha256Async(cluster.ClientA, key));
        }
        finally
        {
            foreach (var p in cluster.Proxies)
                p.FlipBytes = false;
        }
        Assert.Equal(sha, await ReadSha256Async(reader, key));
    }

    [Fact]
    public async Task AuditLog_RecordsAuthenticatedRequestsAndRefusals_NeverASecretOrToken()
    {
        string key = $"team-a/audit/{Guid.NewGuid():N}.bin";
        cluster.PutOrigin(key, ShardSize + 99);
        var secretsAndTokens = new List<string> { cluster.TeamASecret, cluster.TeamBSecret, cluster.AdminSecret, cluster.ClusterSecret, cluster.EarlySession.Token };

        // An honest read over the Unix socket and one over TCP, a refused call, an unauthenticated one, a forbidden URL.
        Assert.Equal(cluster.OriginSha256(key), await ReadSha256Async(cluster.ClientA, key));
        await using (var tcp = await cluster.ConnectAsync(TeamA, cluster.TeamASecret, o => o.UseLocalSocket = false))
            Assert.Equal(cluster.OriginSha256(key), await ReadSha256Async(tcp, key));
        var info = await cluster.ClientA.StatAsync(UriText(key));
        for (int i = 0; i < info.ShardCount; i++)
        {
            var location = await LocateAsync(cluster.ClientA, info, i);
            secretsAndTokens.Add(location.Token);
            Assert.Equal(HttpStatusCode.Forbidden, (await _http.GetAsync($"{cluster.DirectDataPlane(location)}/s/{location.Handle}?t={Uri.EscapeDataString(Tokens.Flip(location.Token, 30))}")).Status);
        }
        await DeniedAsync("team-a stat of team-b's object", () => cluster.ClientA.StatAsync(UriText("team-b/model/weights.bin")));
        await DeniedAsync("a call without a proof", () => cluster.Hostile.With(Forges.Nothing).CallAsync(g => g.GetGrain<IObjectGrain>(ObjectAt(key).ToGrainKey()).GetInfoAsync()));

        // Lines are written in the background: wait for the ones this test caused.
        string uri = UriText(key);
        var lines = await Poll.UntilAsync("the audit lines of this test",
            () => Task.FromResult(ReadAuditLines()),
            all => all.Any(l => Is(l, "tenant", TeamA) && Is(l, "uri", uri) && Is(l, "result", "ok"))
                && all.Any(l => Is(l, "tenant", TeamA) && Is(l, "result", "denied"))
                && all.Any(l => Is(l, "result", "unauthenticated"))
                && all.Any(l => Is(l, "result", "forbidden")),
            TimeSpan.FromSeconds(15));

        foreach (var line in lines)
        {
            Assert.True(line.TryGetProperty("time", out _), $"audit line without a time: {line}");
            if (line.TryGetProperty("dropped", out _))
                continue;
            foreach (var field in new[] { "tenant", "verb", "uri", "bytes", "result" })
                Assert.True(line.TryGetProperty(field, out _), $"audit line without '{field}': {line}");
        }
        string text = string.Join('\n', Enumerable.Range(0, 3).Select(i => File.ReadAllText(cluster.AuditPath(i))));
        foreach (var s in secretsAndTokens)
            Assert.DoesNotContain(s, text, StringComparison.Ordinal);
        // No call proof either (they start "v1:{access key id}:"), nor a silo signature header.
        Assert.DoesNotContain($"v1:{TeamA}:", text, StringComparison.Ordinal);
        Assert.DoesNotContain("x-oss-silo-auth", text, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            for (int i = 0; i < 3; i++)
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cluster.AuditPath(i)));
        }
    }

    [Fact]
    public async Task AuditLog_AReadOverTheSilosUnixSocket_IsAccountedLikeOneOverHttp()
    {
        // Team-a reads one object twice: over TCP (HTTP data plane) and as a client on the silos' machine (raw Unix socket,
        // the default there). Each read is a data-plane request authenticated by its capability; the audit log should
        // account the bytes of both to team-a.
        string key = $"team-a/audit-bytes/{Guid.NewGuid():N}.bin";
        cluster.PutOrigin(key, (2 * ShardSize) + 99);
        string uri = UriText(key);
        await using (var tcp = await cluster.ConnectAsync(TeamA, cluster.TeamASecret, o => o.UseLocalSocket = false))
            Assert.Equal(cluster.OriginSha256(key), await ReadSha256Async(tcp, key));
        long size = (await cluster.ClientA.StatAsync(uri)).Size;
        long ReadBytes(List<JsonElement> lines) => lines.Where(l => Is(l, "tenant", TeamA) && Is(l, "verb", "read") && Is(l, "uri", uri) && Is(l, "result", "ok"))
            .Sum(l => l.GetProperty("bytes").GetInt64());
        await Poll.UntilAsync("the audit lines of the read over TCP", () => Task.FromResult(ReadAuditLines()), lines => ReadBytes(lines) >= size, TimeSpan.FromSeconds(15));

        Assert.Equal(cluster.OriginSha256(key), await ReadSha256Async(cluster.ClientA, key));
        // Both reads are done; the lines of the second are written within a moment, like those of the first.
        try
        {
            await Poll.UntilAsync("the audit lines of the read over the Unix socket", () => Task.FromResult(ReadAuditLines()),
                lines => ReadBytes(lines) >= 2 * size, TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the audit log accounts {ReadBytes(ReadAuditLines())} bytes read of {uri} to {TeamA}; it was read whole twice " +
                $"({2 * size} bytes): the read over the silos' Unix socket left no line with its bytes");
        }
    }

    private List<JsonElement> ReadAuditLines()
    {
        var lines = new List<JsonElement>();
        for (int i = 0; i < 3; i++)
        {
            string path = cluster.AuditPath(i);
            if (!File.Exists(path))
                continue;
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                // A line still being written is completed by the next poll.
                if (line.EndsWith('}'))
                    lines.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
        }
        return lines;
    }

    private static bool Is(JsonElement line, string field, string value) =>
        line.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() == value;

    [Fact]
    public async Task AdminApi_WithoutAnAdminTenantsCredentials_IsUnauthorized()
    {
        string baseUrl = $"http://127.0.0.1:{cluster.Silos[0].HttpPort}";
        static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        foreach (var path in new[] { "/admin/api/cluster", $"/admin/api/objects?prefix={Uri.EscapeDataString(UriText("team-b/"))}", "/admin/api/jobs", "/orleans-dashboard" })
        {
            foreach (var (what, header) in new (string, string?)[]
            {
                ("no credentials", null),
                ("team-a's key and secret", Basic(TeamA, cluster.TeamASecret)),
                ("team-a's key and secret as a bearer", $"Bearer {TeamA}:{cluster.TeamASecret}"),
                ("the admin's key with a wrong secret", Basic(AdminTenant, cluster.TeamASecret)),
                ("the cluster secret as a bearer", "Bearer " + cluster.ClusterSecret),
            })
            {
                var answer = await _http.SendAsync(HttpMethod.Get, baseUrl + path, headers: header is null ? null : [new("Authorization", header)]);
                Assert.True(answer.Status == HttpStatusCode.Unauthorized, $"GET {path} with {what}: {(int)answer.Status}; expected 401");
            }
        }
        var ok = await _http.SendAsync(HttpMethod.Get, baseUrl + "/admin/api/cluster", headers: [new("Authorization", Basic(AdminTenant, cluster.AdminSecret))]);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        string json = Encoding.UTF8.GetString(ok.Body);
        foreach (var s in new[] { cluster.TeamASecret, cluster.TeamBSecret, cluster.AdminSecret, cluster.ClusterSecret })
            Assert.DoesNotContain(s, json, StringComparison.Ordinal);
    }
}
