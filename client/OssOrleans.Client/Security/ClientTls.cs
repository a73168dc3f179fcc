using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace OssOrleans.Client.Security;

/// <summary>
/// The client's TLS settings (<see cref="OssClientOptions.TlsCaFile"/> and its certificate), or <see cref="Enabled"/>
/// false. Servers are trusted when their certificate chains to the cluster's CA; host names are not checked (gateways and
/// data planes are reached by address, and the private CA is the trust anchor).
/// </summary>
internal sealed class ClientTls
{
    private ClientTls(X509Certificate2Collection? ca, X509Certificate2? certificate)
    {
        Ca = ca;
        Certificate = certificate;
    }

    public static ClientTls Resolve(OssClientOptions options)
    {
        string? caFile = options.TlsCaFile ?? Environment.GetEnvironmentVariable("OSSORLEANS_TLS_CA_FILE");
        string? certFile = options.TlsCertificateFile ?? Environment.GetEnvironmentVariable("OSSORLEANS_TLS_CERTIFICATE_FILE");
        string? keyFile = options.TlsKeyFile ?? Environment.GetEnvironmentVariable("OSSORLEANS_TLS_KEY_FILE");
        if (string.IsNullOrEmpty(caFile))
        {
            if (!string.IsNullOrEmpty(certFile))
                throw new ArgumentException("OssClientOptions.TlsCertificateFile: needs TlsCaFile too (the CA that signs the cluster's certificates)");
            return new ClientTls(null, null);
        }
        try
        {
            var ca = TlsMaterial.LoadCa(caFile, "OssClientOptions.TlsCaFile");
            var cert = string.IsNullOrEmpty(certFile) ? null : TlsMaterial.LoadCertificate(certFile, keyFile, null, "OssClientOptions.TlsCertificateFile");
            return new ClientTls(ca, cert);
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }
    }

    public bool Enabled => Ca is not null;

    public X509Certificate2Collection? Ca { get; }

    public X509Certificate2? Certificate { get; }

    public bool IsTrusted(X509Certificate? certificate) => Ca is not null && TlsMaterial.ChainsTo(certificate, Ca);

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0 && IsTrusted(certificate);

    /// <summary>Client TLS options for HttpClient connections to data planes.</summary>
    public SslClientAuthenticationOptions SslOptions() => Enabled
        ? new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Validate, ClientCertificates = Certificate is null ? null : [Certificate] }
        : new SslClientAuthenticationOptions();
}
