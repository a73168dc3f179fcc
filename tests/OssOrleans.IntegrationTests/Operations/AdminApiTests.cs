using System.Net;
using Microsoft.Extensions.Configuration;
using OssOrleans.Silo.Hosting;

namespace OssOrleans.IntegrationTests.Operations;

[Collection(OpsSiloCollection.Name)]
public sealed class AdminApiTests(OpsSiloFixture fixture)
{
    [Theory]
    [InlineData("/admin/api/cluster", null)]
    [InlineData("/admin/api/cluster", "wrong-token")]
    [InlineData("/admin/api/jobs", "test-admin-token-7f3")] // a prefix of the real token
    [InlineData("/orleans-dashboard/", null)]
    public async Task Admin_WithoutTheToken_Is401(string path, string? bearer)
    {
        using var admin = new AdminHttp(fixture.Silo.HttpPort);
        using var response = await admin.SendAsync(path, bearer);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain(OpsSiloFixture.Token, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PageAndOrleansDashboard_AreServed()
    {
        using var admin = new AdminHttp(fixture.Silo.HttpPort);
        using var page = await admin.SendAsync("/dashboard", bearer: null);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"silo-count\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var orleans = await admin.SendAsync("/orleans-dashboard/", OpsSiloFixture.Token);
        Assert.Equal(HttpStatusCode.OK, orleans.StatusCode);
    }

    [Fact]
    public async Task Cluster_AfterARead_ReportsSiloCountersAndNoSecrets()
    {
        using var admin = new AdminHttp(fixture.Silo.HttpPort, OpsSiloFixture.Token);
        var before = await admin.GetJsonAsync("/admin/api/cluster");
        long servedBefore = before.GetProperty("totals").GetProperty("bytesServed").GetInt64();

        await using (var s = await fixture.Client.OpenReadAsync("oss://sample/datasets/tiny/train/000003.bin"))
            await s.CopyToAsync(Stream.Null);

        var after = await admin.GetJsonAsync("/admin/api/cluster");
        Assert.Equal(1, after.GetProperty("activeSilos").GetInt32());
        Assert.Equal("ops-tests", after.GetProperty("clusterId").GetString());
        Assert.Equal("local", after.GetProperty("origin").GetString());
        var silo = Assert.Single(after.GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());
        Assert.Contains($":{fixture.Silo.SiloPort}@", silo.GetProperty("address").GetString(), StringComparison.Ordinal);
        var cache = silo.GetProperty("cache");
        Assert.True(cache.GetProperty("capacityBytes").GetInt64() > 0);
        Assert.True(cache.GetProperty("usedBytes").GetInt64() >= 16 * 1024);
        foreach (var name in new[] { "hitRatio", "bytesFromOrigin", "originRequests", "evictions", "crcFailures", "misses", "hits" })
            Assert.True(cache.TryGetProperty(name, out _), $"cache counters lack {name}: {cache}");
        Assert.True(after.GetProperty("totals").GetProperty("bytesServed").GetInt64() >= servedBefore + 16 * 1024,
            $"bytes served did not grow by the 16 KiB read: before {servedBefore}, after {after.GetProperty("totals")}");
        Assert.DoesNotContain(OpsSiloFixture.Token, after.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.DataDirectory, after.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Objects_UnderAPrefix_ListsCachedVersionsWithShardResidency()
    {
        await using (var s = await fixture.Client.OpenReadAsync("oss://sample/models/tiny/weights.bin"))
            await s.CopyToAsync(Stream.Null);
        await using (var s = await fixture.Client.OpenReadAsync("oss://sample/models/tiny/config.json"))
            await s.CopyToAsync(Stream.Null);
        await using (var s = await fixture.Client.OpenReadAsync("oss://sample/README.txt"))
            await s.CopyToAsync(Stream.Null);

        using var admin = new AdminHttp(fixture.Silo.HttpPort, OpsSiloFixture.Token);
        var json = await admin.GetJsonAsync("/admin/api/objects?prefix=oss://sample/models/tiny/");
        var objects = json.GetProperty("objects").EnumerateArray().ToList();
        Assert.Equal(["oss://sample/models/tiny/config.json", "oss://sample/models/tiny/weights.bin"], objects.Select(o => o.GetProperty("uri").GetString()));
        var weights = objects[1];
        Assert.Equal(4 << 20, weights.GetProperty("cachedBytes").GetInt64());
        var shard = Assert.Single(weights.GetProperty("shards").EnumerateArray());
        Assert.Equal(0, shard.GetProperty("index").GetInt32());
        var perSilo = Assert.Single(weights.GetProperty("shardsPerSilo").EnumerateObject());
        Assert.Contains($":{fixture.Silo.SiloPort}@", perSilo.Name, StringComparison.Ordinal);
        Assert.Equal(1, perSilo.Value.GetInt32());
        Assert.False(json.GetProperty("truncated").GetBoolean());

        var limited = await admin.GetJsonAsync("/admin/api/objects?prefix=oss://sample/&limit=1");
        Assert.True(limited.GetProperty("truncated").GetBoolean(), "a limit of 1 shard with 3 cached objects must say it is truncated");
    }

    [Fact]
    public async Task Object_Lookup_StatsAndShowsResidency_404ForMissing_400ForBadUri()
    {
        using var admin = new AdminHttp(fixture.Silo.HttpPort, OpsSiloFixture.Token);
        var json = await admin.GetJsonAsync("/admin/api/object?uri=" + Uri.EscapeDataString("oss://sample/datasets/tiny/manifest.tsv"));
        Assert.Equal(new FileInfo(Path.Combine(fixture.DataDirectory, "sample", "datasets", "tiny", "manifest.tsv")).Length, json.GetProperty("size").GetInt64());
        Assert.Equal(1, json.GetProperty("shardCount").GetInt32());

        using var missing = await admin.SendAsync("/admin/api/object?uri=oss://sample/nope.bin", OpsSiloFixture.Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var bad = await admin.SendAsync("/admin/api/object?uri=http://x/y", OpsSiloFixture.Token);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Jobs_WithoutAWarmJobRegistry_IsAnEmptyList()
    {
        using var admin = new AdminHttp(fixture.Silo.HttpPort, OpsSiloFixture.Token);
        var json = await admin.GetJsonAsync("/admin/api/jobs");
        Assert.Equal(System.Text.Json.JsonValueKind.Array, json.GetProperty("jobs").ValueKind);
    }
}
