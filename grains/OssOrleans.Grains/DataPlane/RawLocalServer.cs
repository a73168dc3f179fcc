using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Security;

namespace OssOrleans.Grains.DataPlane;

/// <summary>A check of part of a leased shard, as the data plane does it (drops the shard on failure); gives the CRCs before and after the part.</summary>
internal delegate bool VerifyRange(ShardLease lease, int offset, int length, out ulong before, out ulong after);

/// <summary>
/// The data plane's read path for clients on the silo's machine: a Unix socket beside the HTTP one
/// (<see cref="LocalReadFrames.PathFor"/>) that sends resident shards straight from their buffers. Kestrel copies every
/// response byte into its pipe before sending it (13% of the silo's CPU in a cached dataset epoch, perf); here the
/// kernel's copy is the only one. Frames as <see cref="LocalReadFrames"/> defines them; a connection carries one request
/// at a time, any number in turn. Every item carries its capability, checked like the HTTP path's. The socket is in the
/// silo's private directory (see <see cref="LocalSocketDirectory"/>); connections are bounded in number, and a request
/// must arrive whole within <see cref="RequestTimeout"/>, an idle connection is closed after <see cref="IdleTimeout"/>.
/// </summary>
internal sealed partial class RawLocalServer(
    ShardStore store,
    VerifyRange verify,
    CapabilityIssuer capabilities,
    CacheInstruments instruments,
    Action<ulong, ShardLease, long> audit,
    ILogger logger) : IAsyncDisposable
{
    private const int MaxConnections = 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(2);

    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _connections = new(MaxConnections, MaxConnections);
    private Socket? _listener;
    private string? _path;
    private Task _accepting = Task.CompletedTask;
    private int _disposed;

    public void Start(string path, string? group)
    {
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            LocalSocketDirectory.Protect(path, group);
            listener.Listen(256);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        (_listener, _path) = (listener, path);
        _accepting = AcceptAsync(listener);
    }

    private async Task AcceptAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                await _connections.WaitAsync(_stopping.Token).ConfigureAwait(false);
                connection = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || _stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                _connections.Release();
                LogAcceptFailed(logger, ex.SocketErrorCode.ToString());
                continue;
            }
            // Large sends go out in a few calls instead of many 208 KiB ones.
            connection.SendBufferSize = 2 << 20;
            _ = Task.Run(() => ServeConnectionAsync(connection));
        }
    }

    private async Task ServeConnectionAsync(Socket connection)
    {
        using (connection)
        {
            var header = new byte[LocalReadFrames.HeaderBytes];
            var request = new byte[LocalReadFrames.ItemBytes * 64];
            try
            {
                while (true)
                {
                    // Idle between requests for a while is fine (clients pool connections); a request once begun must be quick.
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    idle.CancelAfter(IdleTimeout);
                    if (!await ReceiveExactlyAsync(connection, header, idle.Token).ConfigureAwait(false))
                        return;
                    int count = LocalReadFrames.ReadCount(header);
                    if (count is < 1 or > LocalReadFrames.MaxItems)
                    {
                        await SendAnswerAsync(connection, LocalReadFrames.BadRequest, 0).ConfigureAwait(false);
                        return;
                    }
                    if (request.Length < LocalReadFrames.ItemBytes * count)
                        request = new byte[LocalReadFrames.ItemBytes * LocalReadFrames.MaxItems];
                    using var rest = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    rest.CancelAfter(RequestTimeout);
                    if (!await ReceiveExactlyAsync(connection, request.AsMemory(0, LocalReadFrames.ItemBytes * count), rest.Token).ConfigureAwait(false))
                        return;
                    if (!await ServeRequestAsync(connection, request, count).ConfigureAwait(false))
                        return;
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The client went away, stalled, or the silo is stopping: nothing to answer.
            }
            finally
            {
                _connections.Release();
            }
        }
    }

    // False when the connection must close (a bad request).
    private async Task<bool> ServeRequestAsync(Socket connection, byte[] request, int count)
    {
        var leases = new List<(ShardLease Lease, int Offset, int Length, ulong Tenant)>(count);
        try
        {
            byte status = LocalReadFrames.Ok;
            long total = 0;
            var crcs = new byte[LocalReadFrames.ItemCrcBytes * count];
            for (int i = 0; i < count && status == LocalReadFrames.Ok; i++)
            {
                var (handle, offset, length, token) = LocalReadFrames.ReadItem(request.AsMemory(LocalReadFrames.ItemBytes * i, LocalReadFrames.ItemBytes));
                if (!capabilities.Verify(handle, token.Span, out ulong tenant))
                {
                    status = LocalReadFrames.Forbidden;
                    break;
                }
                if (!store.TryLease(handle, out var lease))
                {
                    status = LocalReadFrames.NotResident;
                    break;
                }
                if (offset < 0 || length < 0 || (long)offset + length > lease.Memory.Length)
                {
                    lease.Dispose();
                    status = LocalReadFrames.BadRequest;
                    break;
                }
                leases.Add((lease, offset, length, tenant));
                if (!verify(lease, offset, length, out ulong before, out ulong after))
                    status = LocalReadFrames.NotResident;
                LocalReadFrames.WriteItemCrcs(crcs.AsSpan(LocalReadFrames.ItemCrcBytes * i), before, after);
                total += length;
            }
            await SendAnswerAsync(connection, status, status == LocalReadFrames.Ok ? total : 0).ConfigureAwait(false);
            if (status != LocalReadFrames.Ok)
                return status is LocalReadFrames.NotResident or LocalReadFrames.Forbidden;
            await SendAllAsync(connection, crcs).ConfigureAwait(false);
            foreach (var (lease, offset, length, tenant) in leases)
            {
                await SendAllAsync(connection, lease.Memory.Slice(offset, length)).ConfigureAwait(false);
                instruments.Served(length, localSocket: true);
                audit(tenant, lease, length);
            }
            return true;
        }
        finally
        {
            foreach (var (lease, _, _, _) in leases)
                lease.Dispose();
        }
    }

    private async Task SendAnswerAsync(Socket connection, byte status, long total)
    {
        var answer = new byte[LocalReadFrames.AnswerBytes];
        LocalReadFrames.WriteAnswer(answer, status, total);
        await SendAllAsync(connection, answer).ConfigureAwait(false);
    }

    private async Task SendAllAsync(Socket connection, ReadOnlyMemory<byte> bytes)
    {
        for (var rest = bytes; !rest.IsEmpty;)
            rest = rest[await connection.SendAsync(rest, SocketFlags.None, _stopping.Token).ConfigureAwait(false)..];
    }

    // False when the peer closed the connection before the first byte.
    private static async Task<bool> ReceiveExactlyAsync(Socket connection, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = await connection.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0)
                    return false;
                throw new SocketException((int)SocketError.ConnectionReset);
            }
            read += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _accepting.ConfigureAwait(false);
        _stopping.Dispose();
        if (_path is not null)
            File.Delete(_path);
    }

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Local read socket: accept failed ({Error})")]
    private static partial void LogAcceptFailed(ILogger logger, string error);
}
