using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Silo;

/// <summary>
/// A silo process with tenants and TLS: clients need a certificate of the cluster's CA to reach the gateway, shards travel
/// over https when a client is elsewhere, and the admin API answers an admin tenant over https.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private const string Secret = "team-a-secret-0123456789", AdminSecret = "ops-secret-0123456789xx";
    private readonly TestCertificates _certs = TestCertificates.Create();
    private DirectoryInfo? _work;
    private SiloProcess _silo = null!;
    private int _httpsPort;

    public async Task InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("oss-tls-");
        _httpsPort = FreePort.GetLoopbackPorts(1)[0];
        _silo = await SiloProcess.StartAsync(
        [
            .. _certs.SiloFlags(),
            "--Auth:Tenants:0:AccessKeyId=team-a", $"--Auth:Tenants:0:Secret={Secret}", "--Auth:Tenants:0:Grants:0=read,list oss://sample/",
            "--Auth:Tenants:1:AccessKeyId=ops", $"--Auth:Tenants:1:Secret={AdminSecret}", "--Auth:Tenants:1:Grants:0=admin oss://*",
            "--Cache:DataPlaneUrl=https://127.0.0.1:0",
            // Last, so it wins over the launcher's plain http address.
            "--urls", $"https://127.0.0.1:{_httpsPort}",
        ], _work.FullName);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _certs.Dispose();
        _work?.Delete(recursive: true);
    }

    private OssClientOptions Options(bool certificate = true, bool rogue = false, bool localSocket = true)
    {
        var o = new OssClientOptions
        {
            AccessKeyId = "team-a", AccessKeySecret = Secret, TlsCaFile = _certs.CaFile, UseLocalSocket = localSocket,
            TlsCertificateFile = certificate ? (rogue ? _certs.RogueCertificateFile : _certs.ClientCertificateFile) : null,
            TlsKeyFile = certificate ? (rogue ? _certs.RogueKeyFile : _certs.ClientKeyFile) : null,
        };
        o.Gateways.Clear();
        o.Gateways.Add(_silo.Gateway);
        return o;
    }

    [Fact]
    public async Task Client_WithTheClustersCertificate_ReadsOverHttpsAndTheLocalSocket()
    {
        byte[] expected = await File.ReadAllBytesAsync(Path.Combine(_work!.FullName, "data", "sample", "models", "tiny", "weights.bin"));
        foreach (bool local in new[] { false, true })
        {
            await using var client = await OssCacheClient.ConnectAsync(Options(localSocket: local));
            await using var s = await client.OpenReadAsync("oss://sample/models/tiny/weights.bin");
            using var copy = new MemoryStream();
            await s.CopyToAsync(copy);
            Assert.Equal(SHA256.HashData(expected), SHA256.HashData(copy.ToArray()));
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Client_WithoutAValidCertificate_CannotConnect(bool certificate, bool rogue)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var client = await OssCacheClient.ConnectAsync(Options(certificate, rogue), cts.Token);
            await client.StatAsync("oss://sample/README.txt", cts.Token);
        });
    }

    [Fact]
    public async Task AdminApi_OverHttps_AnswersTheAdminTenantOnly()
    {
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && TlsMaterial.ChainsTo(cert, TlsMaterial.LoadCa(_certs.CaFile, "test")),
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{_httpsPort}") };
        using (var anonymous = await http.GetAsync("/admin/api/cluster"))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        foreach (var (id, secret) in new[] { ("team-a", Secret), ("ops", "wrong-secret"), ("nobody", AdminSecret) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/api/cluster");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
            using var refused = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using var admin = new HttpRequestMessage(HttpMethod.Get, "/admin/api/cluster");
        admin.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"ops:{AdminSecret}")));
        using var ok = await http.SendAsync(admin);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        string body = await ok.Content.ReadAsStringAsync();
        Assert.DoesNotContain(AdminSecret, body, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
    }
}
