using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OssOrleans.Checksums;
using OssOrleans.IntegrationTests.Operations;
using static OssOrleans.IntegrationTests.Security.SecurityAssert;
using static OssOrleans.IntegrationTests.Security.SecurityClusterFixture;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// The write path under attack: <c>PUT /u</c> without a valid upload token (checked before a byte of the body is read or
/// a buffer is rented, however large the declared body), one tenant holding every upload slot, bodies that never arrive,
/// and receipts forged, altered or taken from another upload at completion. The cache is never seeded with bytes the
/// cluster did not receive for that upload: readers get the origin's bytes.
/// </summary>
[Collection(SecurityClusterCollection.Name)]
public sealed class UploadAttackTests(SecurityClusterFixture cluster) : IDisposable
{
    private const long OneGiB = 1L << 30;
    private readonly RawHttp _http = new();

    public void Dispose() => _http.Dispose();

    private Task<UploadSession> StartAsync(string tenant, string secret, string key) =>
        cluster.Hostile.As(tenant, secret).CallAsync(g => g.GetGrain<IUploadGrain>(TenantKeys.Owned(tenant, Guid.NewGuid().ToString("N"))).StartAsync(ObjectAt(key), false, 1));

    private static string PartPath(string? token, int part = 1) =>
        token is null ? $"/u?part={part}&stage=1" : $"/u?t={Uri.EscapeDataString(token)}&part={part}&stage=1";

    /// <summary>A part sent as any HTTP client would; the data plane's answer, parsed when it is 200.</summary>
    private async Task<(HttpStatusCode Status, PartAnswer? Answer)> PutPartAsync(int silo, string token, byte[] body, int part = 1)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.PutAsync($"http://127.0.0.1:{cluster.DataPlanePorts[silo]}{PartPath(token, part)}", new ByteArrayContent(body));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.StatusCode == HttpStatusCode.OK ? JsonSerializer.Deserialize<PartAnswer>(text) : null);
    }

    [Fact]
    public async Task PutPart_WithoutAValidToken_IsRefusedAtOnce_WithoutReadingTheDeclaredGigabyte()
    {
        // The early session has expired by now (it says when); wait for that if the suite got here quickly.
        var early = cluster.EarlySession;
        await Poll.UntilAsync("the early upload session to expire", () => Task.FromResult(DateTimeOffset.UtcNow), now => now.ToUnixTimeSeconds() > early.ExpiresAt.ToUnixTimeSeconds(), UploadSessionLifetime + TimeSpan.FromSeconds(5));

        var session = await StartAsync(TeamA, cluster.TeamASecret, $"team-a/put/{Guid.NewGuid():N}.bin");
        string token = session.Token;
        int last = token.LastIndexOf('.');
        // The claims (JSON between the dots) rewritten: another tenant, a larger part size; the MAC left as it was.
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(token.AsSpan(3, last - 3)))!;
        claims["Tenant"] = TeamB;
        claims["PartSize"] = OneGiB;
        string rewritten = "v1." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString())) + token[last..];
        string macFlipped = token[..^2] + (token[^2] == 'A' ? 'B' : 'A') + token[^1];

        long[] rssBefore = cluster.SiloRss();
        foreach (var (what, t) in new (string, string?)[]
        {
            ("no token", null), ("an empty token", ""), ("a tampered MAC", macFlipped), ("rewritten claims", rewritten),
            ("a token of an expired session", early.Token), ("a capability token", Tokens.Encode(new byte[32])),
        })
        {
            var (status, took) = await RawHttp.SendHeadOnlyAsync(cluster.DataPlanePorts[0], PartPath(t), OneGiB, TimeSpan.FromSeconds(8));
            Assert.True(status == 403, $"PUT /u with {what}: status {status}; expected 403");
            Assert.True(took < TimeSpan.FromSeconds(5), $"PUT /u with {what} took {took.TotalSeconds:0.0} s to be refused: the silo waited for the body");
        }
        // A valid token but a body larger than the session's part size: refused before reading too.
        var (tooLarge, _) = await RawHttp.SendHeadOnlyAsync(cluster.DataPlanePorts[0], PartPath(token), OneGiB, TimeSpan.FromSeconds(8));
        Assert.Equal(400, tooLarge);
        long[] rssAfter = cluster.SiloRss();
        for (int i = 0; i < rssAfter.Length; i++)
            Assert.True(rssAfter[i] < rssBefore[i] + (256L << 20), $"silo {i} grew from {rssBefore[i] >> 20} MiB to {rssAfter[i] >> 20} MiB");

        // The control: the same token, untouched, takes a part.
        var (ok, answer) = await PutPartAsync(0, token, RandomNumberGenerator.GetBytes(1000));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.NotNull(answer);
        Assert.NotEmpty(answer!.Staged);
    }

    [Fact]
    public async Task PutPart_ATenantsStalledParts_HoldOnlyItsShare_AndAreCutByTheServer()
    {
        // Team-a opens as many parts as its share allows on one silo and never sends their bodies.
        var session = await StartAsync(TeamA, cluster.TeamASecret, $"team-a/stall/{Guid.NewGuid():N}.bin");
        int port = cluster.DataPlanePorts[0];
        var stalled = new List<TcpClient>();
        try
        {
            for (int i = 0; i < MaxUploadsPerTenant; i++)
                stalled.Add(await RawHttp.OpenHeadAsync(port, PartPath(session.Token, i + 1), session.PartSize));

            // Once they hold the tenant's slots, its next part is turned away at once (503) rather than queued... (Each try
            // with a session of its own: sessions of this cluster live a few seconds.)
            var small = RandomNumberGenerator.GetBytes(100);
            Task<UploadSession> NewSession() => StartAsync(TeamA, cluster.TeamASecret, $"team-a/stall/{Guid.NewGuid():N}.bin");
            await Poll.UntilAsync("team-a's next part to be refused while its share is taken",
                async () => (await PutPartAsync(0, (await NewSession()).Token, small)).Status, s => s == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(10));
            // ...while team-b's part on the same silo goes through: the bound is per tenant.
            var other = await StartAsync(TeamB, cluster.TeamBSecret, $"team-b/stall/{Guid.NewGuid():N}.bin");
            Assert.Equal(HttpStatusCode.OK, (await PutPartAsync(0, other.Token, small)).Status);

            // The server cuts bodies that do not arrive (Kestrel's minimum body rate, after its grace period), which frees
            // the slots long before the part's own two-minute timeout.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Poll.UntilAsync("team-a's slots to be freed by the server", async () => (await PutPartAsync(0, (await NewSession()).Token, small)).Status,
                s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(40));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"stalled parts held their slots for {clock.Elapsed.TotalSeconds:0} s");
            foreach (var connection in stalled)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                int status = await RawHttp.ReadStatusAsync(connection.GetStream(), cts.Token);
                Assert.True(status is 0 or 408 or 400, $"a stalled part was answered {status}; expected the connection cut or a timeout status");
            }
        }
        finally
        {
            foreach (var c in stalled)
                c.Dispose();
        }
    }

    [Fact]
    public async Task Complete_WithForgedAlteredOrForeignReceipts_SeedsNothing_ReadersGetTheOriginsBytes()
    {
        // Team-a uploads an object of two shards in one part, and (as the same attacker) a second object of the same length.
        string key = $"team-a/receipts/{Guid.NewGuid():N}.bin";
        string otherKey = $"team-a/receipts/{Guid.NewGuid():N}.bin";
        int size = ShardSize + (ShardSize / 2);
        byte[] data = RandomNumberGenerator.GetBytes(size);
        var session = await StartAsync(TeamA, cluster.TeamASecret, key);
        var otherSession = await StartAsync(TeamA, cluster.TeamASecret, otherKey);
        var (status, part) = await PutPartAsync(0, session.Token, data);
        Assert.Equal(HttpStatusCode.OK, status);
        var (otherStatus, otherPart) = await PutPartAsync(1, otherSession.Token, RandomNumberGenerator.GetBytes(size));
        Assert.Equal(HttpStatusCode.OK, otherStatus);
        var real = part!.Staged.Single(r => r.ShardInPart == 0);
        var foreign = otherPart!.Staged.Single(r => r.ShardInPart == 0);

        // The attacker's own bytes for shard 0, served from its own "data plane", with their true CRC in the receipts: a
        // silo that believed any of these receipts would fetch them and cache them as shard 0 of the new version.
        var evil = RandomNumberGenerator.GetBytes(ShardSize);
        await using var fake = await FakeDataPlane.StartAsync(evil);
        ulong evilCrc = Crc64Xz.Compute(evil);
        StagedShard[] forged =
        [
            real with { DataPlane = fake.Url, Silo = "S127.0.0.2:1:1", Crc64 = evilCrc },
            real with { DataPlane = fake.Url, Silo = "S127.0.0.2:1:1", Crc64 = evilCrc, Mac = Tokens.Encode(RandomNumberGenerator.GetBytes(32)) },
            // Another upload's receipt (signed, but for that upload), made to look like this part's.
            foreign with { PartETag = real.PartETag, PartLength = real.PartLength, DataPlane = fake.Url, Crc64 = evilCrc },
            foreign,
        ];
        var info = await cluster.Hostile.As(TeamA, cluster.TeamASecret).CallAsync(g =>
            g.GetGrain<IUploadGrain>(TenantKeys.Owned(TeamA, Guid.NewGuid().ToString("N"))).CompleteAsync(session, [new UploadedPartInfo(1, part.ETag, size)], forged));
        Assert.Equal(size, info.Size);

        // The object is the uploaded bytes at the origin, and that is what every reader gets; no silo asked the fake.
        Assert.Equal(SHA256.HashData(data), cluster.OriginSha256(key));
        Assert.Equal(SHA256.HashData(data), await ReadSha256Async(cluster.ClientA, key));
        Assert.Equal(0, fake.Requests);
    }

    [Fact]
    public async Task Upload_ThroughTheClient_WithItsOwnReceipts_ReadsBackExactly()
    {
        // The honest path beside the attacks: team-a writes a checkpoint of three shards and reads it back.
        string key = $"team-a/ckpt/{Guid.NewGuid():N}.bin";
        byte[] data = RandomNumberGenerator.GetBytes((3 * ShardSize) - 17);
        await using (var w = await cluster.ClientA.OpenWriteAsync(UriText(key)))
        {
            await w.WriteAsync(data);
            await w.CompleteAsync();
        }
        Assert.Equal(SHA256.HashData(data), cluster.OriginSha256(key));
        Assert.Equal(SHA256.HashData(data), await ReadSha256Async(cluster.ClientA, key));
        await DeniedAsync("team-b reading team-a's new checkpoint", () => cluster.ClientB.StatAsync(UriText(key)));
    }
}
