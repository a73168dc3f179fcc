using OssOrleans.TestKit;
using Xunit.Abstractions;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>s3cmd from Debian's package against a real silo's gateway, checked against the origin and the .NET client.</summary>
[Collection(GatewaySiloCollection.Name)]
public sealed class S3cmdGatewayTests(GatewaySiloFixture fixture, ITestOutputHelper output)
{
    private const string Bucket = GatewaySiloFixture.Bucket;

    [SkippableFact]
    public async Task S3cmd_UploadDownloadListDelete_MatchTheOriginAndTheClient()
    {
        string? s3cmd = ExternalTool.Find("s3cmd");
        Skip.If(s3cmd is null, "s3cmd is not installed (tests/install-test-deps.sh installs Debian's s3cmd)");
        using var home = new ExternalTool.TempHome();
        string host = new Uri(fixture.Endpoint).Authority;
        await File.WriteAllTextAsync(home.Combine("s3cfg"),
            $"[default]\naccess_key = gateway-test\nsecret_key = gateway-test-secret\nhost_base = {host}\nhost_bucket = {host}\nuse_https = False\nsignature_v2 = False\n");
        var (smallPath, small) = GatewaySiloFixture.RandomFile(home.Path, "small.bin", 100_000, 51);
        var (largePath, large) = GatewaySiloFixture.RandomFile(home.Path, "large.bin", 12 * (1 << 20) + 11, 52);
        Task<string> S3cmd(params string[] args) => ToolRun.RunAsync(s3cmd!, ["-c", home.Combine("s3cfg"), .. args], home);
        output.WriteLine(await S3cmd("--version"));

        await S3cmd("put", smallPath, $"s3://{Bucket}/s3cmd/small.bin");
        await S3cmd("put", "--multipart-chunk-size-mb=5", largePath, $"s3://{Bucket}/s3cmd/large.bin");
        await fixture.AssertStoredAsync("s3cmd/small.bin", small);
        await fixture.AssertStoredAsync("s3cmd/large.bin", large);

        await S3cmd("get", "--force", $"s3://{Bucket}/s3cmd/large.bin", home.Combine("large.back"));
        await S3cmd("get", "--force", $"s3://{Bucket}/s3cmd/small.bin", home.Combine("small.back"));
        Assert.Equal(large, await File.ReadAllBytesAsync(home.Combine("large.back")));
        Assert.Equal(small, await File.ReadAllBytesAsync(home.Combine("small.back")));

        // 1,205 keys: s3cmd pages at 1000 keys a request.
        var recursive = Paths(await S3cmd("ls", "-r", $"s3://{Bucket}/listing/"));
        var level = Paths(await S3cmd("ls", $"s3://{Bucket}/listing/"));
        await fixture.AssertListingAsync(recursive, level);

        await S3cmd("del", $"s3://{Bucket}/s3cmd/small.bin");
        await S3cmd("del", "--recursive", "--force", $"s3://{Bucket}/s3cmd/");
        Assert.Empty(fixture.Origin.Keys(Bucket, "s3cmd/"));
        Assert.Empty(await fixture.ClientListingAsync("s3cmd/"));
    }

    // "2026-01-01 00:00  123  s3://bucket/key" and "DIR  s3://bucket/prefix/": the URL is the last field.
    private static List<string> Paths(string listing) =>
        [.. listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Last())
            .Where(u => u.StartsWith($"s3://{Bucket}/", StringComparison.Ordinal)).Select(u => u[$"s3://{Bucket}/".Length..])];
}
