using System.Collections.Concurrent;
using System.Net.Sockets;

namespace OssOrleans.Client.Transport;

/// <summary>
/// Reads shards from a silo on this machine over its raw local socket (the silo's Unix socket path plus "r"): one small
/// binary request, the bytes straight back, no HTTP. Connections are kept per socket path and reused, one request at a
/// time each; each is checked, when opened, to lead to the silo's own process (<see cref="LocalPeer"/>). Frames as
/// <see cref="LocalReadFrames"/> defines them.
/// </summary>
internal sealed class RawSocketTransport : IShardTransport, IDisposable
{
    // A silo that stops answering mid-read is given this long per receive; then the read fails like a lost silo.
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, ConcurrentBag<Socket>> _idle = new(StringComparer.Ordinal);
    // Sockets that could not be used (another user's, not the silo's process, a stale file): other transports from then on.
    private readonly ConcurrentDictionary<string, bool> _unusable = new(StringComparer.Ordinal);
    private bool _disposed;

    public bool CanReach(ShardLocation location) =>
        LocalPeer.MayBeLocal(location.Local) && !_unusable.ContainsKey(PathOf(location.Local)) && File.Exists(PathOf(location.Local));

    private static string PathOf(LocalEndpoint local) => LocalReadFrames.PathFor(local.Path);

    public async Task<ShardRead> ReadAsync(ShardLocation location, int offset, int length, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken)
    {
        var local = location.Local!;
        var socket = await RentAsync(local, cancellationToken).ConfigureAwait(false);
        if (socket is null)
            return new ShardRead(ReadStatus.Unusable);
        bool reusable = false;
        try
        {
            var crcs = new byte[LocalReadFrames.ItemCrcBytes];
            var status = await RequestAsync(socket, [(location, offset, length)], crcs, cancellationToken).ConfigureAwait(false);
            if (status != ReadStatus.Ok)
            {
                reusable = true;
                return new ShardRead(status);
            }
            var (before, after) = LocalReadFrames.ReadItemCrcs(crcs);
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var body = new ExactStream(socket, length, stall);
            await consume(body, cancellationToken).ConfigureAwait(false);
            reusable = body.Remaining == 0;
            return new ShardRead(ReadStatus.Ok, before, after);
        }
        catch (SocketException ex)
        {
            throw Broken(local.Path, ex);
        }
        finally
        {
            Release(local, socket, reusable);
        }
    }

    public async Task<ReadStatus> ReadManyAsync(IReadOnlyList<ShardLocation> locations, IReadOnlyList<Memory<byte>> targets, CancellationToken cancellationToken)
    {
        var local = locations[0].Local!;
        var socket = await RentAsync(local, cancellationToken).ConfigureAwait(false);
        if (socket is null)
            return ReadStatus.Unusable;
        bool reusable = false;
        try
        {
            var crcs = new byte[LocalReadFrames.ItemCrcBytes * locations.Count];
            var status = await RequestAsync(socket, [.. locations.Select(l => (l, 0, l.Length))], crcs, cancellationToken).ConfigureAwait(false);
            if (status == ReadStatus.Ok)
            {
                foreach (var target in targets)
                    await ReceiveExactlyAsync(socket, target, cancellationToken).ConfigureAwait(false);
            }
            reusable = true;
            return status;
        }
        catch (SocketException ex)
        {
            throw Broken(local.Path, ex);
        }
        finally
        {
            Release(local, socket, reusable);
        }
    }

    // A connection cut mid-request (the silo stopped or was killed): an IOException, which callers retry like any lost
    // silo, through the grains.
    private static IOException Broken(string path, SocketException ex) =>
        new($"local data plane {path}: connection lost ({ex.SocketErrorCode})", ex);

    // Sends the request and reads the answer's header and per-item CRCs.
    private static async Task<ReadStatus> RequestAsync(Socket socket, IReadOnlyList<(ShardLocation Location, int Offset, int Length)> items, byte[] crcs, CancellationToken cancellationToken)
    {
        if (items.Count is < 1 or > LocalReadFrames.MaxItems)
            throw new ArgumentOutOfRangeException(nameof(items), $"1 to {LocalReadFrames.MaxItems} items per request, not {items.Count}");
        var request = new byte[LocalReadFrames.HeaderBytes + LocalReadFrames.ItemBytes * items.Count];
        LocalReadFrames.WriteCount(request, items.Count);
        Span<byte> token = stackalloc byte[CapabilityToken.Bytes];
        long expected = 0;
        for (int i = 0; i < items.Count; i++)
        {
            var (location, offset, length) = items[i];
            // A token that does not decode is sent as zeros and refused there, like an expired one: the grain is asked again.
            if (!CapabilityToken.TryDecode(location.Token, token))
                token.Clear();
            LocalReadFrames.WriteItem(request.AsSpan(LocalReadFrames.HeaderBytes + LocalReadFrames.ItemBytes * i), location.Handle, offset, length, token);
            expected += length;
        }
        for (var rest = request.AsMemory(); !rest.IsEmpty;)
            rest = rest[await socket.SendAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];

        var answer = new byte[LocalReadFrames.AnswerBytes];
        await ReceiveExactlyAsync(socket, answer, cancellationToken).ConfigureAwait(false);
        var (status, total) = LocalReadFrames.ReadAnswer(answer);
        switch (status)
        {
            case LocalReadFrames.Ok when total == expected:
                await ReceiveExactlyAsync(socket, crcs, cancellationToken).ConfigureAwait(false);
                return ReadStatus.Ok;
            case LocalReadFrames.Ok:
                throw new IOException($"local data plane: {total} bytes announced for {items.Count} items, expected {expected}");
            case LocalReadFrames.NotResident or LocalReadFrames.Forbidden:
                return ReadStatus.Gone;
            default:
                throw new InvalidDataException($"local data plane refused the request (status {status})");
        }
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReceiveTimeout);
        try
        {
            for (int read = 0; read < buffer.Length;)
            {
                int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                    throw new IOException($"local data plane closed the connection after {read} of {buffer.Length} bytes");
                read += n;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"local data plane sent nothing for {ReceiveTimeout.TotalSeconds:0} s");
        }
    }

    // A pooled connection, or a new one to the silo's own process; null when the socket cannot be used.
    private async Task<Socket?> RentAsync(LocalEndpoint local, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string path = PathOf(local);
        if (_idle.TryGetValue(path, out var idle) && idle.TryTake(out var pooled))
            return pooled;
        try
        {
            return await LocalPeer.ConnectAsync(path, local.ProcessId, 2 << 20, cancellationToken).ConfigureAwait(false);
        }
        catch (LocalSocketUnusableException)
        {
            _unusable.TryAdd(path, true);
            return null;
        }
    }

    private void Release(LocalEndpoint local, Socket socket, bool reusable)
    {
        if (reusable && !_disposed)
            _idle.GetOrAdd(PathOf(local), _ => []).Add(socket);
        else
            socket.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var bag in _idle.Values)
        {
            while (bag.TryTake(out var socket))
                socket.Dispose();
        }
    }

    /// <summary>
    /// Exactly <c>length</c> bytes of the connection, read-only; never reads past them. A read that gets nothing for
    /// <see cref="ReceiveTimeout"/> fails (the deadline moves on with every read that brings bytes).
    /// </summary>
    private sealed class ExactStream(Socket socket, int length, CancellationTokenSource stall) : ReadOnlyStream
    {
        public int Remaining { get; private set; } = length;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Remaining == 0 || buffer.IsEmpty)
                return 0;
            stall.CancelAfter(ReceiveTimeout);
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer[..Math.Min(buffer.Length, Remaining)], SocketFlags.None, stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException($"local data plane sent nothing for {ReceiveTimeout.TotalSeconds:0} s with {Remaining} bytes still to come");
            }
            if (n == 0)
                throw new IOException($"local data plane closed the connection with {Remaining} bytes still to come");
            Remaining -= n;
            return n;
        }
    }
}
