using System.Net;
using System.Net.Sockets;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// The network between clients and one silo's data plane: a TCP relay on the address the silo advertises, to the address
/// it listens on. It passes bytes through unchanged until <see cref="FlipBytes"/> is set; then it flips the last byte of
/// every large read coming back from the silo (headers are small, so that byte is the body's), as a faulty link, a bad NIC
/// or someone on the path would. What a client must then do is refuse the bytes, never hand them out.
/// </summary>
public sealed class TamperingProxy : IAsyncDisposable
{
    // Reads from the silo at least this large are body bytes at their end (a response's header block is a few hundred bytes).
    private const int TamperReadsFrom = 1024;

    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private int _flip;
    private long _flipped;

    public TamperingProxy(IPEndPoint listen, IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener = new TcpListener(listen);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Whether bytes from the silo are altered on their way.</summary>
    public bool FlipBytes
    {
        get => Volatile.Read(ref _flip) != 0;
        set => Volatile.Write(ref _flip, value ? 1 : 0);
    }

    /// <summary>Bytes altered so far.</summary>
    public long Flipped => Interlocked.Read(ref _flipped);

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_upstream, _stopping.Token);
                var toServer = PumpAsync(client.GetStream(), server.GetStream(), tamper: false);
                var toClient = PumpAsync(server.GetStream(), client.GetStream(), tamper: true);
                // Either side closing ends the relay; what the other side sent by then has been passed on.
                await Task.WhenAny(toServer, toClient);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A connection that breaks on either side ends; the client sees a broken connection, as it would anyway.
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool tamper)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, _stopping.Token)) > 0)
            {
                if (tamper && n >= TamperReadsFrom && FlipBytes)
                {
                    buffer[n - 1] ^= 0x01;
                    Interlocked.Increment(ref _flipped);
                }
                await to.WriteAsync(buffer.AsMemory(0, n), _stopping.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }
}
