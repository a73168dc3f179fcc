using System.Text.Json;
using OssOrleans.Gateway.Protocol;
using Xunit.Abstractions;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// What boto3 and the AWS CLI really send, recorded and replayed like <see cref="AwsSdkClientTests"/>. Each test runs
/// for every installation found: the one on PATH and Debian's (/usr/bin), which differ in version (checksum trailers
/// by default from boto3 1.36 and AWS CLI 2.23 on). Skipped when the client is not installed
/// (tests/install-test-deps.sh installs Debian's).
/// </summary>
public class PythonClientTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool> Pythons => new() { { "python3", false }, { "python3", true }, { "/usr/bin/python3", false }, { "/usr/bin/python3", true } };

    public static TheoryData<string, bool> AwsClis => new() { { "aws", false }, { "aws", true }, { "/usr/bin/aws", false }, { "/usr/bin/aws", true } };

    private const string Boto3Script = """
        import json, os, ssl, sys, urllib.request
        import boto3, botocore
        from botocore.config import Config
        from botocore.exceptions import ClientError

        endpoint = os.environ["GW_ENDPOINT"]
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, signature_version="s3v4")
        def client(secret):
            return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=secret, region_name="us-east-1", config=config, verify=False)
        s3 = client(os.environ["AWS_SECRET_ACCESS_KEY"])
        small = b"hello boto3 " * 1000
        s3.put_object(Bucket="bucket", Key="boto/small file+x.txt", Body=small)
        upload = s3.create_multipart_upload(Bucket="bucket", Key="boto/multi part")
        part1 = bytes(range(97, 123)) * 201650 + b"abcdefghijklmnopqrst"
        r1 = s3.upload_part(Bucket="bucket", Key="boto/multi part", UploadId=upload["UploadId"], PartNumber=1, Body=part1)
        r2 = s3.upload_part(Bucket="bucket", Key="boto/multi part", UploadId=upload["UploadId"], PartNumber=2, Body=b"tail")
        s3.complete_multipart_upload(Bucket="bucket", Key="boto/multi part", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": [{"ETag": r1["ETag"], "PartNumber": 1}, {"ETag": r2["ETag"], "PartNumber": 2}]})
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "boto/small file+x.txt"}, ExpiresIn=600)
        context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
        fetched = urllib.request.urlopen(url, context=context).read()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bucket", Prefix="boto/")["Contents"]]
        try:
            client("wrong").put_object(Bucket="bucket", Key="boto/denied", Body=b"x")
            denied = None
        except ClientError as e:
            denied = e.response["Error"]["Code"]
        print(json.dumps({"boto3": boto3.__version__, "botocore": botocore.__version__, "presigned_ok": fetched == small,
                          "keys": keys, "denied": denied, "part1": len(part1)}))
        """;

    [SkippableTheory]
    [MemberData(nameof(Pythons))]
    public async Task Boto3_PutUploadPartAndPresignedGet_AreAcceptedAndAnyChangeRefused(string python, bool https)
    {
        string? executable = ExternalClient.Find(python);
        Skip.If(executable is null, $"{python} is not installed");
        Skip.If(python != "python3" && ExternalClient.Find("python3") is { } onPath && ExternalClient.Canonical(onPath) == ExternalClient.Canonical(executable),
            $"{python} is the python3 on PATH, tested already");
        using var home = new Storage.TempDirectory();
        var probe = await ExternalClient.RunAsync(executable, ["-c", "import boto3"], ExternalClient.ClientEnvironment(home.Path), home.Path);
        Skip.If(probe.ExitCode != 0, $"boto3 is not installed for {executable}");

        await using var server = await RecordingS3Server.StartAsync(https);
        string script = home.Combine("client.py");
        await File.WriteAllTextAsync(script, Boto3Script);
        var environment = ExternalClient.ClientEnvironment(home.Path);
        environment["GW_ENDPOINT"] = server.Endpoint.ToString().TrimEnd('/');
        var (exitCode, text) = await ExternalClient.RunAsync(executable, [script], environment, home.Path);

        output.WriteLine(text);
        foreach (var request in server.Requests)
            output.WriteLine(request.ToString());
        Assert.True(exitCode == 0, text);
        using var result = JsonDocument.Parse(text.Split('\n').Last(l => l.StartsWith('{')));
        Assert.True(result.RootElement.GetProperty("presigned_ok").GetBoolean());
        Assert.Equal(["boto/multi part", "boto/small file+x.txt"], result.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("SignatureDoesNotMatch", result.RootElement.GetProperty("denied").GetString());
        Assert.Equal(12000, server.Objects["bucket/boto/small file+x.txt"].Length);
        Assert.Equal(result.RootElement.GetProperty("part1").GetInt32() + 4, server.Objects["bucket/boto/multi part"].Length);
        await ReplayAllAsync(server);
    }

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
        await ReplayAllAsync(server);
    }

    private async Task ReplayAllAsync(RecordingS3Server server)
    {
        foreach (var request in server.Requests.Where(r => r.Error is null && r.Operation is S3Operation.PutObject or S3Operation.UploadPart or S3Operation.GetObject))
        {
            var (_, decoded) = await RecordingReplay.AcceptAsync(request);
            if (request.Headers.ContainsKey("x-amz-trailer"))
                output.WriteLine("body ends: " + System.Text.Encoding.Latin1.GetString(request.Body[^Math.Min(80, request.Body.Length)..]).Replace("\r", "\\r").Replace("\n", "\\n"));
            if (request.Decoded is not null)
                Assert.Equal(request.Decoded, decoded);
            output.WriteLine($"{request.Method} {request.RawTarget[..Math.Min(60, request.RawTarget.Length)]}: changes refused with "
                + string.Join(", ", await RecordingReplay.AssertChangesRefusedAsync(request)));
        }
    }
}
