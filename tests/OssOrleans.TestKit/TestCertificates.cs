using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OssOrleans.TestKit;

/// <summary>
/// A throwaway certificate authority for TLS tests, written as PEM files in a temporary folder (private keys owner-only,
/// as the silo and client require): the CA, a silo certificate and a client certificate signed by it, and a certificate
/// of another CA that must not be trusted.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly DirectoryInfo _dir;

    private TestCertificates(DirectoryInfo dir) => _dir = dir;

    public string CaFile => Path.Combine(_dir.FullName, "ca.pem");
    public string SiloCertificateFile => Path.Combine(_dir.FullName, "silo.pem");
    public string SiloKeyFile => Path.Combine(_dir.FullName, "silo.key");
    public string ClientCertificateFile => Path.Combine(_dir.FullName, "client.pem");
    public string ClientKeyFile => Path.Combine(_dir.FullName, "client.key");
    public string RogueCertificateFile => Path.Combine(_dir.FullName, "rogue.pem");
    public string RogueKeyFile => Path.Combine(_dir.FullName, "rogue.key");

    /// <summary>The silo's TLS settings as command-line flags.</summary>
    public IEnumerable<string> SiloFlags() =>
        [$"--Tls:CertificateFile={SiloCertificateFile}", $"--Tls:KeyFile={SiloKeyFile}", $"--Tls:CaFile={CaFile}"];

    public static TestCertificates Create()
    {
        var dir = Directory.CreateTempSubdirectory("ossorleans-certs-");
        var certs = new TestCertificates(dir);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=OssOrleans test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(certs.CaFile, ca.ExportCertificatePem());
        Issue(ca, "CN=ossorleans-silo", certs.SiloCertificateFile, certs.SiloKeyFile);
        Issue(ca, "CN=ossorleans-client", certs.ClientCertificateFile, certs.ClientKeyFile);

        using var rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rogueCaRequest = new CertificateRequest("CN=Rogue CA", rogueKey, HashAlgorithmName.SHA256);
        rogueCaRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var rogueCa = rogueCaRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        Issue(rogueCa, "CN=ossorleans-client", certs.RogueCertificateFile, certs.RogueKeyFile);
        return certs;
    }

    private static void Issue(X509Certificate2 ca, string subject, string certFile, string keyFile)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        // Both uses: silos are servers to some peers and clients of others.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var serial = RandomNumberGenerator.GetBytes(12);
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
