using System.Text;
using OssOrleans.Ctl;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>ossctl run in-process as a tenant of the adversarial cluster (its credential file and the cluster's TLS files).</summary>
internal static class CtlRunner
{
    public sealed record Run(int Code, byte[] Stdout, string Stderr)
    {
        public string Text => Encoding.UTF8.GetString(Stdout);
    }

    public static async Task<Run> RunAsync(SecurityClusterFixture cluster, string tenant, string secret, params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        var certs = cluster.Certificates;
        string[] all =
        [
            "--cluster", string.Join(",", cluster.Gateways), "--cluster-id", cluster.ClusterId,
            "--credential-file", cluster.CredentialFile(tenant, secret),
            "--tls-ca", certs.CaFile, "--tls-cert", certs.ClientCertificateFile, "--tls-key", certs.ClientKeyFile,
            .. args,
        ];
        // The cluster comes from --cluster, never from OSSCTL_CLUSTER of the machine running the tests.
        int code = await CtlApp.RunAsync(all, stdout, stderr, _ => null);
        return new Run(code, stdout.ToArray(), stderr.ToString());
    }
}
