using System.Net;
using System.Net.Security;
using OssOrleans.Grains.Security;

namespace OssOrleans.Grains.DataPlane;

/// <summary>HttpClients for one silo's requests to another's data plane: over TLS when the cluster has it, trusting only the cluster's CA.</summary>
internal sealed class DataPlaneClientFactory(ClusterTls tls)
{
    public HttpClient Create(TimeSpan connectTimeout) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = connectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        SslOptions = tls.Enabled
            ? new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = tls.Validate, ClientCertificates = [tls.Certificate!] }
            : new SslClientAuthenticationOptions(),
    });
}
