using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using OssOrleans.Client.Security;

namespace OssOrleans.Client;

/// <summary>Setup of an Orleans client for an OssOrleans cluster.</summary>
public static class OssClientBuilderExtensions
{
    /// <summary>
    /// Makes every call of this Orleans client carry the tenant's proof (<see cref="OssClientOptions.AccessKeyId"/> and its
    /// secret, or the environment or credential file), and connects it over TLS when <see cref="OssClientOptions.TlsCaFile"/>
    /// is set (with <see cref="OssClientOptions.TlsCertificateFile"/> as its certificate for clusters that require one).
    /// <see cref="OssCacheClient.ConnectAsync"/> does this itself.
    /// </summary>
    public static IClientBuilder UseOssCredentials(this IClientBuilder client, OssClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var credentials = ClientCredentials.Resolve(options);
        client.AddOutgoingGrainCallFilter(new ClientCallSigner(credentials));
        var tls = ClientTls.Resolve(options);
        if (tls.Enabled)
        {
            void Configure(TlsOptions o)
            {
                o.RemoteCertificateValidation = (certificate, _, _) => tls.IsTrusted(certificate);
                o.CheckCertificateRevocation = false;
                // Gateways are reached by address; the CA, not the name, is what is trusted.
                o.OnAuthenticateAsClient = (_, auth) => auth.TargetHost = "ossorleans";
            }
            if (tls.Certificate is X509Certificate2 certificate)
                client.UseTls(certificate, Configure);
            else
                client.UseTls(Configure);
        }
        return client;
    }
}
