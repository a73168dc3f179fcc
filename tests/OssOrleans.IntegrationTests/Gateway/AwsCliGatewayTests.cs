using System.Text.Json;
using OssOrleans.TestKit;
using Xunit.Abstractions;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>The AWS CLI from Debian's awscli package against a real silo's gateway, checked against the origin and the .NET client.</summary>
[Collection(GatewaySiloCollection.Name)]
public sealed class AwsCliGatewayTests(GatewaySiloFixture fixture, ITestOutputHelper output)
{
    private const string Bucket = GatewaySiloFixture.Bucket;

    [SkippableFact]
    public async Task AwsCli_UploadDownloadListDelete_MatchTheOriginAndTheClient()
    {
        string? aws = ExternalTool.Find("/usr/bin/aws") ?? ExternalTool.Find("aws");
        Skip.If(aws is null, "the AWS CLI is not installed (tests/install-test-deps.sh installs Debian's awscli)");
        using var home = new ExternalTool.TempHome();
        // Multipart from 5 MiB, so the 12 MiB file goes up in three parts.
        await File.WriteAllTextAsync(home.Combine("aws-config"), "[default]\nregion = us-east-1\ns3 =\n    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n");
        var (smallPath, small) = GatewaySiloFixture.RandomFile(home.Path, "small.bin", 100_000, 41);
        var (largePath, large) = GatewaySiloFixture.RandomFile(home.Path, "large.bin", 12 * (1 << 20) + 9, 42);
        Task<string> Aws(params string[] args) => ToolRun.RunAsync(aws!, ["--endpoint-url", fixture.Endpoint, .. args], home);
        output.WriteLine(await Aws("--version"));

        await Aws("s3", "cp", smallPath, $"s3://{Bucket}/awscli/small.bin", "--only-show-errors");
        await Aws("s3", "cp", largePath, $"s3://{Bucket}/awscli/large.bin", "--only-show-errors");
        await fixture.AssertStoredAsync("awscli/small.bin", small);
        await fixture.AssertStoredAsync("awscli/large.bin", large);

        await Aws("s3", "cp", $"s3://{Bucket}/awscli/large.bin", home.Combine("large.back"), "--only-show-errors");
        await Aws("s3", "cp", $"s3://{Bucket}/awscli/small.bin", home.Combine("small.back"), "--only-show-errors");
        await Aws("s3api", "get-object", "--bucket", Bucket, "--key", "awscli/large.bin", "--range", "bytes=1000-99999", home.Combine("range.back"));
        Assert.Equal(large, await File.ReadAllBytesAsync(home.Combine("large.back")));
        Assert.Equal(small, await File.ReadAllBytesAsync(home.Combine("small.back")));
        Assert.Equal(large[1000..100_000], await File.ReadAllBytesAsync(home.Combine("range.back")));

        // The CLI pages (100 keys a request here) and merges the pages before --query.
        var recursive = JsonSerializer.Deserialize<List<string>>(await Aws("s3api", "list-objects-v2", "--bucket", Bucket, "--prefix", "listing/",
            "--page-size", "100", "--query", "Contents[].Key", "--output", "json"))!;
        var levelText = await Aws("s3", "ls", $"s3://{Bucket}/listing/", "--page-size", "2");
        var level = levelText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())
            .Select(l => l.StartsWith("PRE ", StringComparison.Ordinal) ? "listing/" + l[4..] : "listing/" + l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last()).ToList();
        await fixture.AssertListingAsync(recursive, level);

        await Aws("s3", "rm", $"s3://{Bucket}/awscli/small.bin", "--only-show-errors");
        await Aws("s3", "rm", $"s3://{Bucket}/awscli/", "--recursive", "--only-show-errors");
        Assert.Empty(fixture.Origin.Keys(Bucket, "awscli/"));
        Assert.Empty(await fixture.ClientListingAsync("awscli/"));
    }
}
