using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace OssOrleans.Grains.Security;

/// <summary>
/// TLS for the cluster's connections (silo to silo, client to gateway, the data plane, the S3 gateway). Section <c>Tls</c>.
/// Every silo has a certificate signed by the cluster's CA; with <see cref="RequireClientCertificate"/> clients need one
/// too (mutual TLS), so only holders of a certificate from that CA reach the Orleans gateway at all.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string Section = "Tls";

    /// <summary>This silo's certificate: a PEM file (with <see cref="KeyFile"/>) or a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>). Empty: no TLS.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertificateFile"/>; refused when other users may read it.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The password of a PKCS#12 <see cref="CertificateFile"/>, if it has one (prefer the environment to a file).</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM file of the CA certificate(s) that sign the cluster's silo and client certificates: the only roots trusted.</summary>
    public string? CaFile { get; set; }

    /// <summary>Require a client certificate signed by the CA on the Orleans gateway and between silos (mutual TLS). Default true.</summary>
    public bool RequireClientCertificate { get; set; } = true;
}

/// <summary>
/// The loaded TLS material, or <see cref="Enabled"/> false. Peers are trusted when their certificate chains to the
/// configured CA (only it: the machine's roots are not trusted here). Host names are not checked: silos reach each other
/// and are reached by addresses that certificates seldom list, and the private CA is the trust anchor.
/// </summary>
public sealed class ClusterTls
{
    public ClusterTls(IOptions<ClusterTlsOptions> options)
        : this(options.Value)
    {
    }

    public ClusterTls(ClusterTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string s = ClusterTlsOptions.Section;
        RequireClientCertificate = options.RequireClientCertificate;
        if (string.IsNullOrEmpty(options.CertificateFile))
            return;
        if (string.IsNullOrEmpty(options.CaFile))
            throw new InvalidOperationException($"{s}:CaFile: required with {s}:CertificateFile (the CA that signs the cluster's certificates)");
        Certificate = TlsMaterial.LoadCertificate(options.CertificateFile, options.KeyFile, options.CertificatePassword, $"{s}:CertificateFile");
        Ca = TlsMaterial.LoadCa(options.CaFile, $"{s}:CaFile");
        if (!IsTrusted(Certificate))
            throw new InvalidOperationException($"{s}:CertificateFile: the certificate is not signed by the CA in {s}:CaFile (or has expired)");
    }

    public bool Enabled => Certificate is not null;

    public X509Certificate2? Certificate { get; }

    public X509Certificate2Collection Ca { get; } = [];

    public bool RequireClientCertificate { get; }

    /// <summary>True when <paramref name="certificate"/> chains to the cluster's CA and is within its validity period.</summary>
    public bool IsTrusted(X509Certificate? certificate) => TlsMaterial.ChainsTo(certificate, Ca);

    /// <summary>A validation callback for <see cref="SslStream"/> and HttpClient: trusted when it chains to the CA, whatever the name.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0 && IsTrusted(certificate);
}
