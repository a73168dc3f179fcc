using System.Net.Sockets;
using Amazon.Runtime;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>An SDK HTTP client that connects every host name to 127.0.0.1 (virtual-hosted bucket names without DNS).</summary>
internal sealed class LoopbackHttpClientFactory : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync("127.0.0.1", context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    });
}
