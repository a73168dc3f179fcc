using System.Security.Cryptography;
using OssOrleans.TestKit;
using Xunit.Abstractions;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>
/// A PyTorch training input pipeline (Debian's python3-torch): a DataLoader with 4 worker processes reads a dataset of
/// objects through the gateway with boto3, two epochs; every sample is verified, and the origin sends each byte once.
/// </summary>
[Collection(GatewaySiloCollection.Name)]
public sealed class PyTorchGatewayTests(GatewaySiloFixture fixture, ITestOutputHelper output)
{
    private const string Bucket = GatewaySiloFixture.Bucket;

    [SkippableFact]
    public async Task DataLoader_FourWorkersTwoEpochs_EverySampleRightAndEachByteFromTheOriginOnce()
    {
        string? missing = await ExternalTool.MissingPythonModulesAsync("boto3", "torch");
        Skip.If(missing is not null, missing);
        using var home = new ExternalTool.TempHome();
        const int samples = 256, size = 64 * 1024;
        var lines = new List<string>();
        for (int i = 0; i < samples; i++)
        {
            var data = new byte[size];
            new Random(1000 + i).NextBytes(data);
            string key = $"torch/ds/sample-{i:D4}.bin";
            fixture.Origin.PutObject(Bucket, key, data);
            lines.Add($"{key}\t{Convert.ToHexStringLower(SHA256.HashData(data))}");
        }
        await File.WriteAllLinesAsync(home.Combine("manifest.tsv"), lines);
        long before = fixture.Origin.Counters.GetBodyBytes;

        string text = await ToolRun.RunAsync(ExternalTool.DebianPython, [ToolRun.Script("torch_loader.py"), fixture.Endpoint, Bucket, home.Combine("manifest.tsv")],
            home, timeout: TimeSpan.FromMinutes(5));
        var result = ToolRun.LastJson(text);
        output.WriteLine(result.ToString());

        Assert.Equal(4, result.GetProperty("workers").GetInt32());
        foreach (var epoch in result.GetProperty("epochs").EnumerateArray())
        {
            Assert.Equal(samples, epoch.GetProperty("samples").GetInt32());
            Assert.Empty(epoch.GetProperty("bad").EnumerateArray());
            Assert.Equal((long)samples * size, epoch.GetProperty("bytes").GetInt64());
        }
        Assert.Equal((long)samples * size, fixture.Origin.Counters.GetBodyBytes - before);
    }
}
