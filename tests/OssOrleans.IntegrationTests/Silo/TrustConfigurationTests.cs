using Microsoft.Extensions.Configuration;
using OssOrleans.Silo.Hosting;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Silo;

/// <summary>
/// A silo that listens beyond loopback refuses to start without tenants and TLS (one line naming what to configure); one
/// on loopback needs neither; silos in separate processes need a shared cluster secret.
/// </summary>
public sealed class TrustConfigurationTests : IDisposable
{
    private const string Tenant = "team-a";
    private readonly TestCertificates _certs = TestCertificates.Create();

    public void Dispose() => _certs.Dispose();

    private static SiloSettings Bind(Dictionary<string, string?> values) =>
        SiloConfiguration.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    private static Dictionary<string, string?> WithTenant(Dictionary<string, string?> values)
    {
        values["Auth:Tenants:0:AccessKeyId"] = Tenant;
        values["Auth:Tenants:0:Secret"] = "team-a-secret-0123456789";
        values["Auth:Tenants:0:Grants:0"] = "read,list oss://data/team-a/";
        return values;
    }

    private Dictionary<string, string?> WithTls(Dictionary<string, string?> values)
    {
        values["Tls:CertificateFile"] = _certs.SiloCertificateFile;
        values["Tls:KeyFile"] = _certs.SiloKeyFile;
        values["Tls:CaFile"] = _certs.CaFile;
        return values;
    }

    [Theory]
    [InlineData("Http:Urls", "http://0.0.0.0:8080")]
    [InlineData("Http:Urls", "http://[::]:8080")]
    [InlineData("Http:Urls", "http://10.1.2.3:8080")]
    [InlineData("Http:Urls", "http://127.0.0.1:8080;http://[::]:8081")]
    [InlineData("Http:Urls", "http://silo-1.example:8080")]
    [InlineData("Cache:DataPlaneUrl", "http://0.0.0.0:9090")]
    [InlineData("Gateway:Urls", "http://0.0.0.0:9000")]
    public void Bind_BeyondLoopbackWithoutTenants_FailsNamingAuthTenants(string setting, string url)
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => Bind(new() { [setting] = url }));
        Assert.StartsWith("Auth:Tenants:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(url.Split(';')[^1], ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_RedisAdvertisedBeyondLoopback_WithoutTenants_FailsNamingAuthTenants()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => Bind(new()
        {
            ["Cluster:Mode"] = "Redis", ["Cluster:Redis"] = "127.0.0.1:6379", ["Cluster:AdvertisedAddress"] = "10.0.0.5",
            ["Auth:ClusterSecret"] = new string('s', 40),
        }));
        Assert.StartsWith("Auth:Tenants:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Cluster:AdvertisedAddress", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_BeyondLoopbackWithTenantsButNoTls_FailsNamingTls()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => Bind(WithTenant(new() { ["Http:Urls"] = "https://0.0.0.0:8443" })));
        Assert.StartsWith("Tls:CertificateFile:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_BeyondLoopbackWithTenantsAndTls_OverPlainHttp_FailsAskingForHttps()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => Bind(WithTls(WithTenant(new() { ["Cache:DataPlaneUrl"] = "http://0.0.0.0:9090" }))));
        Assert.StartsWith("Cache:DataPlaneUrl:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("https://", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_BeyondLoopbackWithTenantsAndTlsOverHttps_IsAccepted()
    {
        var settings = Bind(WithTls(WithTenant(new() { ["Http:Urls"] = "https://0.0.0.0:8443", ["Cache:DataPlaneUrl"] = "https://0.0.0.0:9443" })));
        Assert.False(settings.Tenants.IsAnonymous);
        Assert.True(settings.Tls.Enabled);
    }

    [Fact]
    public void Bind_S3GatewayBeyondLoopback_NeedsTenantsTlsAndHttps_OrIsOff()
    {
        var plain = Assert.Throws<SiloConfigurationException>(() => Bind(WithTls(WithTenant(new() { ["Gateway:Urls"] = "http://0.0.0.0:9000" }))));
        var https = Bind(WithTls(WithTenant(new() { ["Gateway:Urls"] = "https://0.0.0.0:9443" })));
        var off = Bind(new() { ["Gateway:Urls"] = "http://0.0.0.0:9000", ["Gateway:Enabled"] = "false" });

        Assert.StartsWith("Gateway:Urls:", plain.Message, StringComparison.Ordinal);
        Assert.Contains("https://", plain.Message, StringComparison.Ordinal);
        Assert.Equal("https://0.0.0.0:9443", https.Gateway.Urls);
        Assert.True(off.Tenants.IsAnonymous);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", null, null)]
    [InlineData("http://localhost:8080;http://[::1]:9090", null, null)]
    [InlineData("http://127.0.0.1:8080", "s3cret", null)]
    [InlineData("http://127.0.0.1:8080", null, "false")]
    public void Bind_LoopbackOnly_NeedsNoTenantsNorTls(string urls, string? token, string? enabled)
    {
        var settings = Bind(new() { ["Http:Urls"] = urls, ["Admin:Token"] = token, ["Admin:Enabled"] = enabled });
        Assert.True(settings.Tenants.IsAnonymous);
        Assert.Equal(token ?? "", settings.Admin.Token);
    }

    [Fact]
    public void Bind_RedisWithoutClusterSecret_FailsNamingIt()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => Bind(new() { ["Cluster:Mode"] = "Redis", ["Cluster:Redis"] = "127.0.0.1:6379" }));
        Assert.StartsWith("Auth:ClusterSecret:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Bind_SecretFileReadableByOthers_IsRefused_WithoutItsContent()
    {
        string file = Path.Combine(Path.GetTempPath(), $"ossorleans-secret-{Guid.NewGuid():N}");
        File.WriteAllText(file, "team-a-secret-0123456789-in-a-file\n");
        try
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            var values = new Dictionary<string, string?>
            {
                ["Auth:Tenants:0:AccessKeyId"] = Tenant, ["Auth:Tenants:0:SecretFile"] = file, ["Auth:Tenants:0:Grants:0"] = "read oss://data/",
            };
            var ex = Assert.Throws<SiloConfigurationException>(() => Bind(values));
            Assert.Contains("chmod 600", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("in-a-file", ex.Message, StringComparison.Ordinal);

            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Assert.False(Bind(values).Tenants.IsAnonymous);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("Auth:Tenants:0:AccessKeyId", "x", "Auth:Tenants:0:AccessKeyId")]
    [InlineData("Auth:Tenants:0:Secret", "short", "Auth:Tenants:0:Secret")]
    [InlineData("Auth:Tenants:0:Grants:0", "fly oss://data/", "Auth:Tenants:0:Grants:0")]
    [InlineData("Auth:Tenants:0:Grants:0", "read data/x", "Auth:Tenants:0:Grants:0")]
    [InlineData("Auth:ClusterSecret", "too-short", "Auth:ClusterSecret")]
    public void Bind_BadTrustSetting_FailsNamingIt_WithoutTheSecret(string key, string value, string expected)
    {
        var values = WithTenant([]);
        values[key] = value;
        var ex = Assert.Throws<SiloConfigurationException>(() => Bind(values));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("team-a-secret-0123456789", ex.Message, StringComparison.Ordinal);
    }
}
