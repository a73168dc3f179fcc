using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OssOrleans;

/// <summary>
/// Certificates and CAs for the cluster's TLS, loaded and checked the same way by silos and clients: a certificate from a
/// PEM file and its key (owner-only), or a PKCS#12 file; CA certificates from a PEM file; trust means chaining to one of
/// those CAs (and nothing else).
/// </summary>
internal static class TlsMaterial
{
    /// <summary>Loads a certificate with its private key. Errors name <paramref name="setting"/>, never the key.</summary>
    public static X509Certificate2 LoadCertificate(string file, string? keyFile, string? password, string setting)
    {
        if (!File.Exists(file))
            throw new InvalidOperationException($"{setting}: file '{file}' does not exist");
        try
        {
            string ext = Path.GetExtension(file).ToLowerInvariant();
            if (ext is ".pfx" or ".p12")
            {
                SecretFile.ReadAll(file, setting);
                return X509CertificateLoader.LoadPkcs12FromFile(file, password);
            }
            if (string.IsNullOrEmpty(keyFile))
                throw new InvalidOperationException($"{setting}: a PEM certificate needs its key file");
            string key = SecretFile.ReadAll(keyFile, setting + " (key file)");
            return X509Certificate2.CreateFromPem(File.ReadAllText(file), key);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"{setting}: cannot load the certificate and its key: {ex.Message}", ex);
        }
    }

    /// <summary>The CA certificates of a PEM file.</summary>
    public static X509Certificate2Collection LoadCa(string file, string setting)
    {
        if (!File.Exists(file))
            throw new InvalidOperationException($"{setting}: file '{file}' does not exist");
        var ca = new X509Certificate2Collection();
        try
        {
            ca.ImportFromPemFile(file);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"{setting}: '{file}' is not PEM: {ex.Message}", ex);
        }
        if (ca.Count == 0)
            throw new InvalidOperationException($"{setting}: '{file}' holds no PEM certificate");
        return ca;
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <paramref name="ca"/> and is within its validity period.</summary>
    public static bool ChainsTo(X509Certificate? certificate, X509Certificate2Collection ca)
    {
        if (certificate is null || ca.Count == 0)
            return false;
        var leaf = certificate as X509Certificate2;
        using var owned = leaf is null ? new X509Certificate2(certificate) : null;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf ?? owned!);
    }
}
