using OssOrleans.TestKit;
using Xunit.Abstractions;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>rclone from Debian's package (S3 backend, provider Other) against a real silo's gateway, checked against the origin and the .NET client.</summary>
[Collection(GatewaySiloCollection.Name)]
public sealed class RcloneGatewayTests(GatewaySiloFixture fixture, ITestOutputHelper output)
{
    private const string Bucket = GatewaySiloFixture.Bucket;

    [SkippableFact]
    public async Task Rclone_UploadDownloadListDelete_MatchTheOriginAndTheClient()
    {
        string? rclone = ExternalTool.Find("rclone");
        Skip.If(rclone is null, "rclone is not installed (tests/install-test-deps.sh installs Debian's rclone)");
        using var home = new ExternalTool.TempHome();
        await File.WriteAllTextAsync(home.Combine("rclone.conf"),
            $"[gw]\ntype = s3\nprovider = Other\naccess_key_id = gateway-test\nsecret_access_key = gateway-test-secret\nendpoint = {fixture.Endpoint}\nregion = us-east-1\n");
        var (smallPath, small) = GatewaySiloFixture.RandomFile(home.Path, "small.bin", 100_000, 61);
        var (largePath, large) = GatewaySiloFixture.RandomFile(home.Path, "large.bin", 12 * (1 << 20) + 13, 62);
        // Multipart from 5 MiB in 5 MiB chunks, downloads in 4 ranged streams, listings 100 keys a request.
        Task<string> Rclone(params string[] args) => ToolRun.RunAsync(rclone!, ["--config", home.Combine("rclone.conf"), "--s3-upload-cutoff", "5M",
            "--s3-chunk-size", "5M", "--multi-thread-streams", "4", "--multi-thread-cutoff", "1M", "--s3-list-chunk", "100", .. args], home);
        output.WriteLine(await Rclone("version"));

        await Rclone("copyto", smallPath, $"gw:{Bucket}/rclone/small.bin");
        await Rclone("copyto", largePath, $"gw:{Bucket}/rclone/large.bin");
        await fixture.AssertStoredAsync("rclone/small.bin", small);
        await fixture.AssertStoredAsync("rclone/large.bin", large);

        await Rclone("copyto", $"gw:{Bucket}/rclone/large.bin", home.Combine("large.back"));
        await Rclone("copyto", $"gw:{Bucket}/rclone/small.bin", home.Combine("small.back"));
        // A ranged read of its own: rclone cat writes the range to stdout, which the shell sends to a file.
        await ToolRun.RunAsync("/bin/sh", ["-c", $"\"$0\" --config \"$1\" cat --offset 1000 --count 99000 \"$2\" > \"$3\"",
            rclone!, home.Combine("rclone.conf"), $"gw:{Bucket}/rclone/large.bin", home.Combine("range.back")], home);
        Assert.Equal(large, await File.ReadAllBytesAsync(home.Combine("large.back")));
        Assert.Equal(small, await File.ReadAllBytesAsync(home.Combine("small.back")));
        Assert.Equal(large[1000..100_000], await File.ReadAllBytesAsync(home.Combine("range.back")));
        // Small files come back with rclone's MD5 check against the single-part ETag.
        await Rclone("check", home.Path, $"gw:{Bucket}/rclone/", "--include", "small.bin", "--one-way");

        var recursive = Lines(await Rclone("lsf", "-R", "--files-only", $"gw:{Bucket}/listing/")).Select(l => "listing/" + l).ToList();
        var level = Lines(await Rclone("lsf", $"gw:{Bucket}/listing/")).Select(l => "listing/" + l).ToList();
        await fixture.AssertListingAsync(recursive, level);

        await Rclone("deletefile", $"gw:{Bucket}/rclone/small.bin");
        await Rclone("delete", $"gw:{Bucket}/rclone/");
        Assert.Empty(fixture.Origin.Keys(Bucket, "rclone/"));
        Assert.Empty(await fixture.ClientListingAsync("rclone/"));
    }

    private static List<string> Lines(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
}
