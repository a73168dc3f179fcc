using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using OssOrleans.Client.Security;

namespace OssOrleans.Client.Transport;

/// <summary>
/// The client's two HTTP paths to silos' data planes: over TCP (TLS when the cluster has it), and over a same-machine
/// silo's Unix socket (plain HTTP; the socket is owner-only and checked to lead to the silo's process). Used by the HTTP
/// shard transports and by part uploads.
/// </summary>
internal sealed class DataPlaneHttp : IDisposable
{
    private static readonly HttpRequestOptionsKey<LocalEndpoint> LocalOption = new("OssOrleans.LocalEndpoint");

    // Sockets that could not be used (another user's, not the silo's process, a stale file): TCP from then on.
    private readonly ConcurrentDictionary<string, bool> _unusable = new(StringComparer.Ordinal);

    public DataPlaneHttp(ClientTls tls)
    {
        Tcp = new HttpClient(Handler(null, tls)) { Timeout = Timeout.InfiniteTimeSpan };
        Unix = new HttpClient(Handler(ConnectLocalAsync, tls)) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HttpClient Tcp { get; }

    public HttpClient Unix { get; }

    /// <summary>Whether the silo's Unix socket may be tried.</summary>
    public bool MayUseUnix(LocalEndpoint? local) => LocalPeer.MayBeLocal(local) && !_unusable.ContainsKey(local.Path) && File.Exists(local.Path);

    /// <summary>The URL of <paramref name="pathAndQuery"/> on a data plane over its Unix socket (which speaks plain HTTP).</summary>
    public static string UnixUrl(string dataPlane, string pathAndQuery)
    {
        var u = new Uri(dataPlane);
        return $"http://{u.Authority}{pathAndQuery}";
    }

    /// <summary>Sends a request over the silo's Unix socket; null when the socket turned out unusable (then use TCP).</summary>
    public async Task<HttpResponseMessage?> TrySendUnixAsync(HttpRequestMessage request, LocalEndpoint local, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        request.Options.Set(LocalOption, local);
        try
        {
            return await Unix.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException or LocalSocketUnusableException)
        {
            _unusable.TryAdd(local.Path, true);
            return null;
        }
    }

    /// <summary>
    /// Sends a request to a silo's data plane: over its Unix socket when it is on this machine and usable, else over TCP to
    /// <paramref name="dataPlane"/>. <paramref name="create"/> makes the request for a URL and may be called twice.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(string dataPlane, string pathAndQuery, LocalEndpoint? local, Func<string, HttpRequestMessage> create,
        HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        if (MayUseUnix(local))
        {
            using var request = create(UnixUrl(dataPlane, pathAndQuery));
            if (await TrySendUnixAsync(request, local!, completion, cancellationToken).ConfigureAwait(false) is { } response)
                return response;
        }
        using var tcp = create(dataPlane + pathAndQuery);
        return await Tcp.SendAsync(tcp, completion, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<Stream> ConnectLocalAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (!context.InitialRequestMessage.Options.TryGetValue(LocalOption, out var local))
            throw new InvalidOperationException("a local-socket request without its socket");
        var socket = await LocalPeer.ConnectAsync(local.Path, local.ProcessId, 2 << 20, cancellationToken).ConfigureAwait(false);
        return new NetworkStream(socket, ownsSocket: true);
    }

    private static SocketsHttpHandler Handler(Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect, ClientTls tls) => new()
    {
        MaxConnectionsPerServer = 64,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ConnectCallback = connect,
        SslOptions = tls.SslOptions(),
    };

    public void Dispose()
    {
        Tcp.Dispose();
        Unix.Dispose();
    }
}
