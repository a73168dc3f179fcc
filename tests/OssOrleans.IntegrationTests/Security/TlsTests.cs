using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using static OssOrleans.IntegrationTests.Security.SecurityClusterFixture;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// The gateways speak TLS and require a client certificate of the cluster's CA: a client with none, with one of another
/// CA, or without TLS at all does not get in, whatever credentials it has; with the CA's certificate it does.
/// </summary>
[Collection(SecurityClusterCollection.Name)]
public sealed class TlsTests(SecurityClusterFixture cluster)
{
    // A client that gets in is connected within a few seconds; one that does not gets this long to prove it.
    private static readonly TimeSpan ConnectBudget = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task Connect_WithoutAValidClientCertificate_Fails_WithTheClustersOne_Succeeds()
    {
        var certs = cluster.Certificates;
        // The three refusals are tried at once: each may take the whole budget to give up.
        var attempts = new (string What, Func<CancellationToken, Task> Connect)[]
        {
            ("the library without a client certificate", ct => ConnectLibraryAsync(o => { o.TlsCertificateFile = null; o.TlsKeyFile = null; }, ct)),
            ("the library with a certificate of another CA", ct => ConnectLibraryAsync(o => { o.TlsCertificateFile = certs.RogueCertificateFile; o.TlsKeyFile = certs.RogueKeyFile; }, ct)),
            ("the library without TLS", ct => ConnectLibraryAsync(o => { o.TlsCaFile = null; o.TlsCertificateFile = null; o.TlsKeyFile = null; }, ct)),
            ("a plain Orleans client without a certificate", async ct => await (await HostileOrleansClient.ConnectAsync(cluster.Gateways, cluster.ClusterId, null, ct)).DisposeAsync()),
            ("a plain Orleans client with a certificate of another CA", async ct => await (await HostileOrleansClient.ConnectAsync(cluster.Gateways, cluster.ClusterId,
                X509Certificate2.CreateFromPemFile(certs.RogueCertificateFile, certs.RogueKeyFile), ct)).DisposeAsync()),
        };
        var outcomes = await Task.WhenAll(attempts.Select(async a =>
        {
            using var budget = new CancellationTokenSource(ConnectBudget);
            try
            {
                await a.Connect(budget.Token);
                return $"{a.What}: connected";
            }
            catch (Exception)
            {
                return null;
            }
        }));
        Assert.All(outcomes, o => Assert.True(o is null, o));

        // The control: the same library with the cluster's CA and client certificate connects and reads.
        await using var client = await cluster.ConnectAsync(TeamA, cluster.TeamASecret);
        Assert.Equal(cluster.OriginSha256("team-a/model/config.json"), await ReadSha256Async(client, "team-a/model/config.json"));
    }

    [Fact]
    public async Task TlsHandshake_AtTheGateway_WithoutOrWithARogueCertificate_IsCutOff()
    {
        // A raw TLS client at the gateway port: with no certificate, or one of another CA, the gateway ends the connection
        // right after the handshake; with the cluster's certificate it waits for the Orleans preamble.
        var certs = cluster.Certificates;
        Assert.True(await IsCutOffAsync(null), "the gateway kept a TLS connection without a client certificate");
        Assert.True(await IsCutOffAsync(X509Certificate2.CreateFromPemFile(certs.RogueCertificateFile, certs.RogueKeyFile)), "the gateway kept a TLS connection with a rogue certificate");
        Assert.False(await IsCutOffAsync(X509Certificate2.CreateFromPemFile(certs.ClientCertificateFile, certs.ClientKeyFile)), "the gateway cut off a client with the cluster's certificate");
    }

    private async Task ConnectLibraryAsync(Action<Client.OssClientOptions> configure, CancellationToken cancellationToken)
    {
        var options = cluster.Options(TeamA, cluster.TeamASecret);
        configure(options);
        await using var client = await Client.OssCacheClient.ConnectAsync(options, cancellationToken);
        // Connected: prove it by a call (a connection that is refused later would fail here).
        await client.StatAsync(UriText("team-a/model/config.json"), cancellationToken);
    }

    // True when the gateway closes the connection (or fails the handshake) within a few seconds; false when it keeps it open.
    private async Task<bool> IsCutOffAsync(X509Certificate2? certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, cluster.Silos[0].GatewayPort);
        using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "ossorleans",
                ClientCertificates = certificate is null ? null : [certificate],
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            });
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            return await tls.ReadAsync(new byte[1], wait.Token) == 0;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
