using System.Text.Json;
using OssOrleans.Gateway.Protocol;
using Xunit.Abstractions;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// What boto3 really sends, recorded and replayed like <see cref="AwsSdkClientTests"/>, for every installation found:
/// the python3 on PATH and Debian's (/usr/bin/python3), which differ in version (checksum trailers by default from
/// boto3 1.36 on). Skipped when boto3 is not installed (tests/install-test-deps.sh installs Debian's).
/// </summary>
public class Boto3ClientTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool> Pythons => new() { { "python3", false }, { "python3", true }, { "/usr/bin/python3", false }, { "/usr/bin/python3", true } };

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
        await RecordingReplay.ReplayAllAsync(server, output);
    }
}
