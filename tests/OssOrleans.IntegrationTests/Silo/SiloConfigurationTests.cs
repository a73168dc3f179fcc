using Microsoft.Extensions.Configuration;
using OssOrleans.Silo.Hosting;

namespace OssOrleans.IntegrationTests.Silo;

/// <summary>Bad configuration: one clear line naming the option, and a non-zero exit, before anything starts.</summary>
public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData("--Origin:Kind=Bogus", "Origin:Kind")]
    [InlineData("--Cluster:SiloPort=abc", "Cluster:SiloPort")]
    [InlineData("--Cluster:SiloPort=70000", "Cluster:SiloPort")]
    [InlineData("--Cluster:Mode=Redis", "Cluster:Redis")]
    [InlineData("--Http:Urls=ftp://nope", "Http:Urls")]
    [InlineData("--Cache:ShardSize=10", "Cache:ShardSize")]
    [InlineData("--Cache:CapacityBytes=1000", "Cache:CapacityBytes")]
    [InlineData("--Origin:Kind=S3", "Origin:S3:Endpoint")]
    public async Task RunAsync_BadSetting_PrintsOneLineNamingTheOptionAndExits2(string arg, string option)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = await SiloApp.RunAsync([arg], stdout, stderr);

        Assert.Equal(SiloApp.ConfigurationErrorExitCode, code);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(option, lines[0], StringComparison.Ordinal);
        Assert.StartsWith("ossorleans-silo: invalid configuration:", lines[0], StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public async Task RunAsync_S3OriginWithSecretInBadConfig_DoesNotPrintTheSecret()
    {
        const string secret = "SECRET-never-print-9f8e";
        var stderr = new StringWriter();

        int code = await SiloApp.RunAsync(["--Origin:Kind=S3", "--Origin:S3:Endpoint=not a url", $"--Origin:S3:AccessKeySecret={secret}"], new StringWriter(), stderr);

        Assert.Equal(SiloApp.ConfigurationErrorExitCode, code);
        Assert.Contains("Origin:S3:Endpoint", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_LaterSourcesWin_CommandLineOverEnvironmentOverDefaults()
    {
        var builder = new ConfigurationManager();
        builder.AddInMemoryCollection(new Dictionary<string, string?> { ["Cluster:SiloPort"] = "1111", ["Cluster:GatewayPort"] = "2222" });
        Environment.SetEnvironmentVariable("OSSORLEANS_Cluster__GatewayPort", "3333");
        try
        {
            SiloConfiguration.AddSources(builder, ["--silo-port", "4444"]);
            var settings = SiloConfiguration.Bind(builder);
            Assert.Equal(4444, settings.Cluster.SiloPort);
            Assert.Equal(3333, settings.Cluster.GatewayPort);
            Assert.Equal(OriginKind.Local, settings.Origin.Kind);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OSSORLEANS_Cluster__GatewayPort", null);
        }
    }
}
