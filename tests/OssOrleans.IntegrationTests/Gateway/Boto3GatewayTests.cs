using OssOrleans.TestKit;
using Xunit.Abstractions;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>boto3 from Debian's python3-boto3 against a real silo's gateway: every byte and listing checked against the origin and the .NET client.</summary>
[Collection(GatewaySiloCollection.Name)]
public sealed class Boto3GatewayTests(GatewaySiloFixture fixture, ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Boto3_UploadDownloadListDelete_MatchTheOriginAndTheClient()
    {
        string? missing = await ExternalTool.MissingPythonModulesAsync("boto3");
        Skip.If(missing is not null, missing);
        using var home = new ExternalTool.TempHome();
        var (_, small) = GatewaySiloFixture.RandomFile(home.Path, "small.bin", 100_000, 31);
        var (_, large) = GatewaySiloFixture.RandomFile(home.Path, "large.bin", 12 * (1 << 20) + 7, 32);
        string script = ToolRun.Script("boto3_client.py");
        Task<string> Step(string step) => ToolRun.RunAsync(ExternalTool.DebianPython, [script, fixture.Endpoint, GatewaySiloFixture.Bucket, home.Path, step], home);

        var uploaded = ToolRun.LastJson(await Step("upload"));
        output.WriteLine($"boto3 {uploaded.GetProperty("boto3")}, botocore {uploaded.GetProperty("botocore")}");
        await fixture.AssertStoredAsync("boto3/small.bin", small);
        await fixture.AssertStoredAsync("boto3/large.bin", large);
        Assert.EndsWith("-3\"", uploaded.GetProperty("large_etag").GetString());

        await Step("download");
        Assert.Equal(small, await File.ReadAllBytesAsync(home.Combine("small.back")));
        Assert.Equal(large, await File.ReadAllBytesAsync(home.Combine("large.back")));
        Assert.Equal(large[1000..100_000], await File.ReadAllBytesAsync(home.Combine("range.back")));
        Assert.Equal(large[^5000..], await File.ReadAllBytesAsync(home.Combine("suffix.back")));

        var listed = ToolRun.LastJson(await Step("list"));
        await fixture.AssertListingAsync(ToolRun.Strings(listed.GetProperty("recursive")), ToolRun.Strings(listed.GetProperty("level")));
        Assert.Equal(13, listed.GetProperty("pages").GetInt32());

        var deleted = ToolRun.LastJson(await Step("delete"));
        Assert.Equal(["boto3/large.bin"], ToolRun.Strings(deleted.GetProperty("deleted")));
        Assert.Empty(ToolRun.Strings(deleted.GetProperty("left")));
        Assert.Empty(fixture.Origin.Keys(GatewaySiloFixture.Bucket, "boto3/"));
        Assert.Empty(await fixture.ClientListingAsync("boto3/"));
    }
}
