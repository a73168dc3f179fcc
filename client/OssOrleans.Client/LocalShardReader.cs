using System.Collections.Concurrent;
using System.Net.Sockets;

namespace OssOrleans.Client;

/// <summary>
/// Reads shards from a silo on this machine over its raw local socket (the silo's Unix socket path plus "r"): one small
/// binary request, the bytes straight back, no HTTP. Connections are kept per socket path and reused, one request at a
/// time each. Frames as <see cref="LocalReadFrames"/> defines them.
/// </summary>
internal sealed class LocalShardReader : IDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<Socket>> _idle = new(StringComparer.Ordinal);
    // Sockets that exist but could not be connected to (another user's, a stale file): HTTP from then on.
    private readonly ConcurrentDictionary<string, bool> _unusable = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>A shard part to read: bytes [Offset, Offset + Length) of the shard at Handle.</summary>
    internal readonly record struct Item(long Handle, int Offset, int Length);

    /// <summary>
    /// The raw read socket beside a silo's HTTP Unix socket, or null when there is none to use (no socket advertised, an
    /// older silo, or one that could not be connected to).
    /// </summary>
    public string? PathFor(string? httpSocket)
    {
        if (httpSocket is null)
            return null;
        string path = LocalReadFrames.PathFor(httpSocket);
        return !_unusable.ContainsKey(path) && File.Exists(path) ? path : null;
    }

    /// <summary>
    /// Reads the items into <paramref name="targets"/> (each exactly its item's length). False when any item is no longer
    /// resident (or failed the silo's check): ask the grains again.
    /// </summary>
    public async Task<bool> ReadAsync(string path, IReadOnlyList<Item> items, IReadOnlyList<Memory<byte>> targets, CancellationToken cancellationToken)
    {
        var socket = await RentAsync(path, cancellationToken).ConfigureAwait(false);
        bool reusable = false;
        try
        {
            if (!await RequestAsync(socket, items, cancellationToken).ConfigureAwait(false))
            {
                reusable = true;
                return false;
            }
            foreach (var target in targets)
                await ReceiveExactlyAsync(socket, target, cancellationToken).ConfigureAwait(false);
            reusable = true;
            return true;
        }
        catch (SocketException ex)
        {
            throw Broken(path, ex);
        }
        finally
        {
            Release(path, socket, reusable);
        }
    }

    /// <summary>
    /// Reads one item and hands a stream of exactly its bytes to <paramref name="consume"/>. False when it is no longer
    /// resident. The connection is reused only if <paramref name="consume"/> read every byte.
    /// </summary>
    public async Task<bool> ReadAsync(string path, Item item, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken)
    {
        var socket = await RentAsync(path, cancellationToken).ConfigureAwait(false);
        bool reusable = false;
        try
        {
            if (!await RequestAsync(socket, [item], cancellationToken).ConfigureAwait(false))
            {
                reusable = true;
                return false;
            }
            var body = new ExactStream(socket, item.Length);
            await consume(body, cancellationToken).ConfigureAwait(false);
            reusable = body.Remaining == 0;
            return true;
        }
        catch (SocketException ex)
        {
            throw Broken(path, ex);
        }
        finally
        {
            Release(path, socket, reusable);
        }
    }

    // A connection cut mid-request (the silo stopped or was killed): an IOException, which callers retry like any lost
    // silo, through the grains.
    private static IOException Broken(string path, SocketException ex) =>
        new($"local data plane {path}: connection lost ({ex.SocketErrorCode})", ex);

    // Sends the request and reads the answer's header; false when the silo says an item is not resident.
    private static async Task<bool> RequestAsync(Socket socket, IReadOnlyList<Item> items, CancellationToken cancellationToken)
    {
        if (items.Count is < 1 or > LocalReadFrames.MaxItems)
            throw new ArgumentOutOfRangeException(nameof(items), $"1 to {LocalReadFrames.MaxItems} items per request, not {items.Count}");
        var request = new byte[LocalReadFrames.HeaderBytes + LocalReadFrames.ItemBytes * items.Count];
        LocalReadFrames.WriteCount(request, items.Count);
        long expected = 0;
        for (int i = 0; i < items.Count; i++)
        {
            LocalReadFrames.WriteItem(request.AsSpan(LocalReadFrames.HeaderBytes + LocalReadFrames.ItemBytes * i), items[i].Handle, items[i].Offset, items[i].Length);
            expected += items[i].Length;
        }
        for (var rest = request.AsMemory(); !rest.IsEmpty;)
            rest = rest[await socket.SendAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];

        var answer = new byte[LocalReadFrames.AnswerBytes];
        await ReceiveExactlyAsync(socket, answer, cancellationToken).ConfigureAwait(false);
        var (status, total) = LocalReadFrames.ReadAnswer(answer);
        return status switch
        {
            LocalReadFrames.Ok when total == expected => true,
            LocalReadFrames.Ok => throw new IOException($"local data plane: {total} bytes announced for {items.Count} items, expected {expected}"),
            LocalReadFrames.NotResident => false,
            _ => throw new InvalidDataException($"local data plane refused the request (status {status})"),
        };
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new IOException($"local data plane closed the connection after {read} of {buffer.Length} bytes");
            read += n;
        }
    }

    private async Task<Socket> RentAsync(string path, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_idle.TryGetValue(path, out var idle) && idle.TryTake(out var pooled))
            return pooled;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.ReceiveBufferSize = 2 << 20;
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            _unusable.TryAdd(path, true);
            throw new LocalSocketUnusableException(path, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Release(string path, Socket socket, bool reusable)
    {
        if (reusable && !_disposed)
            _idle.GetOrAdd(path, _ => []).Add(socket);
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

    /// <summary>Exactly <c>length</c> bytes of the connection, read-only; never reads past them.</summary>
    private sealed class ExactStream(Socket socket, int length) : Stream
    {
        public int Remaining { get; private set; } = length;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Remaining == 0 || buffer.IsEmpty)
                return 0;
            int n = await socket.ReceiveAsync(buffer[..Math.Min(buffer.Length, Remaining)], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new IOException($"local data plane closed the connection with {Remaining} bytes still to come");
            Remaining -= n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>A silo's local read socket could not be connected to; the caller reads over HTTP instead.</summary>
internal sealed class LocalSocketUnusableException(string path, Exception inner)
    : IOException($"local data plane socket {path} cannot be used: {inner.Message}", inner);
