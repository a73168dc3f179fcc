using OssOrleans.Gateway.Protocol;
using Xunit.Abstractions;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// What the AWS CLI really sends for <c>aws s3 cp</c> of a small and a multipart (9 MiB) file, recorded and replayed
/// like <see cref="AwsSdkClientTests"/>, for every installation found: the aws on PATH and Debian's (/usr/bin/aws).
/// Skipped when the CLI is not installed (tests/install-test-deps.sh installs Debian's).
/// </summary>
public class AwsCliClientTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool> AwsClis => new() { { "aws", false }, { "aws", true }, { "/usr/bin/aws", false }, { "/usr/bin/aws", true } };

    [SkippableTheory]
    [MemberData(nameof(AwsClis))]
    public async Task AwsCli_CopySmallAndMultipartFiles_AreAcceptedAndAnyChangeRefused(string aws, bool https)
    {
        string? executable = ExternalClient.Find(aws);
        Skip.If(executable is null, $"{aws} is not installed");
        Skip.If(aws != "aws" && ExternalClient.Find("aws") is { } onPath && ExternalClient.Canonical(onPath) == ExternalClient.Canonical(executable),
            $"{aws} is the aws on PATH, tested already");
        using var home = new Storage.TempDirectory();
        var environment = ExternalClient.ClientEnvironment(home.Path);
        var version = await ExternalClient.RunAsync(executable, ["--version"], environment, home.Path);
        Skip.If(version.ExitCode != 0, $"{executable} does not run: {version.Output}");

        await using var server = await RecordingS3Server.StartAsync(https);
        byte[] small = AwsChunkedStreamTests.RandomBytes(1000, seed: 10);
        byte[] big = AwsChunkedStreamTests.RandomBytes(9 << 20, seed: 11);
        await File.WriteAllBytesAsync(home.Combine("small.bin"), small);
        await File.WriteAllBytesAsync(home.Combine("big.bin"), big);
        string[] common = ["--endpoint-url", server.Endpoint.ToString().TrimEnd('/'), .. https ? ["--no-verify-ssl"] : Array.Empty<string>()];

        var copySmall = await ExternalClient.RunAsync(executable, ["s3", "cp", "small.bin", "s3://bucket/cli/small file.bin", .. common], environment, home.Path);
        var copyBig = await ExternalClient.RunAsync(executable, ["s3", "cp", "big.bin", "s3://bucket/cli/big.bin", .. common], environment, home.Path);

        output.WriteLine(version.Output);
        output.WriteLine(copySmall.Output);
        output.WriteLine(copyBig.Output);
        foreach (var request in server.Requests)
            output.WriteLine(request.ToString());
        Assert.True(copySmall.ExitCode == 0, copySmall.Output);
        Assert.True(copyBig.ExitCode == 0, copyBig.Output);
        Assert.Equal(small, server.Objects["bucket/cli/small file.bin"]);
        Assert.Equal(big, server.Objects["bucket/cli/big.bin"]);
        Assert.Contains(server.Requests, r => r.Operation == S3Operation.UploadPart);
        await RecordingReplay.ReplayAllAsync(server, output);
    }
}
