using System.Buffers.Binary;
using System.Net.Sockets;
using OssOrleans.Client;

namespace OssOrleans.UnitTests.Client;

/// <summary>The client side of the raw local read socket, against a scripted peer on a Unix socket (no silo).</summary>
public sealed class LocalShardReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ossorleans-raw-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Read_ItemsArriveInOrder_AndTheConnectionIsReused()
    {
        byte[] a = [1, 2, 3], b = [9, 8, 7, 6, 5];
        await using var peer = Peer.Start(Path.Combine(_dir, "s.sockr"), async (socket, count) =>
        {
            var request = await Peer.ReadRequestAsync(socket, count);
            Assert.Equal([(11L, 0, 3), (12L, 2, 5)], request);
            await Peer.SendAsync(socket, 0, 8, [.. a, .. b]);
            return true;
        });
        using var reader = new LocalShardReader();
        string path = reader.PathFor(Path.Combine(_dir, "s.sock"))!;
        Assert.NotNull(path);

        for (int i = 0; i < 3; i++)
        {
            var ta = new byte[3];
            var tb = new byte[5];
            Assert.True(await reader.ReadAsync(path, [new(11, 0, 3), new(12, 2, 5)], [ta, tb], CancellationToken.None));
            Assert.Equal(a, ta);
            Assert.Equal(b, tb);
        }
        Assert.Equal(1, peer.Accepted);
    }

    [Fact]
    public async Task Read_NotResident_IsFalse_AndTheConnectionStaysUsable()
    {
        int requests = 0;
        await using var peer = Peer.Start(Path.Combine(_dir, "n.sockr"), async (socket, count) =>
        {
            await Peer.ReadRequestAsync(socket, count);
            if (Interlocked.Increment(ref requests) == 1)
                await Peer.SendAsync(socket, 1, 0, []);
            else
                await Peer.SendAsync(socket, 0, 2, [4, 2]);
            return true;
        });
        using var reader = new LocalShardReader();
        string path = reader.PathFor(Path.Combine(_dir, "n.sock"))!;

        Assert.False(await reader.ReadAsync(path, [new(1, 0, 2)], [new byte[2]], CancellationToken.None));
        var target = new byte[2];
        Assert.True(await reader.ReadAsync(path, [new(1, 0, 2)], [target], CancellationToken.None));
        Assert.Equal([4, 2], target);
    }

    [Fact]
    public async Task Read_PeerGoneMidBody_IsAnIOException()
    {
        await using var peer = Peer.Start(Path.Combine(_dir, "g.sockr"), async (socket, count) =>
        {
            await Peer.ReadRequestAsync(socket, count);
            await Peer.SendAsync(socket, 0, 100, new byte[10]);
            return false; // closes with 90 bytes still announced
        });
        using var reader = new LocalShardReader();
        string path = reader.PathFor(Path.Combine(_dir, "g.sock"))!;

        var ex = await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadAsync(path, [new(1, 0, 100)], [new byte[100]], CancellationToken.None));
        Assert.Contains("local data plane", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_PeerClosesWithTheRequestUnread_IsAnIOException()
    {
        // Closing a Unix socket with unread data resets the connection: the client sees ECONNRESET, not an end of stream.
        await using var peer = Peer.Start(Path.Combine(_dir, "r.sockr"), (socket, count) => Task.FromResult(false));
        using var reader = new LocalShardReader();
        string path = reader.PathFor(Path.Combine(_dir, "r.sock"))!;

        var ex = await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadAsync(path, [new(1, 0, 8), new(2, 0, 8)], [new byte[8], new byte[8]], CancellationToken.None));
        Assert.Contains("local data plane", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_PartReadByTheConsumer_IsNotReused()
    {
        await using var peer = Peer.Start(Path.Combine(_dir, "p.sockr"), async (socket, count) =>
        {
            await Peer.ReadRequestAsync(socket, count);
            await Peer.SendAsync(socket, 0, 4, [1, 2, 3, 4]);
            return true;
        });
        using var reader = new LocalShardReader();
        string path = reader.PathFor(Path.Combine(_dir, "p.sock"))!;

        // A consumer that stops early leaves bytes in the connection: it must not carry the next answer.
        Assert.True(await reader.ReadAsync(path, new LocalShardReader.Item(1, 0, 4), async (s, ct) => await s.ReadExactlyAsync(new byte[2], ct), CancellationToken.None));
        var all = new byte[4];
        Assert.True(await reader.ReadAsync(path, new LocalShardReader.Item(1, 0, 4), async (s, ct) => await s.ReadExactlyAsync(all, ct), CancellationToken.None));
        Assert.Equal([1, 2, 3, 4], all);
        Assert.Equal(2, peer.Accepted);
    }

    [Fact]
    public async Task PathThatIsNotASocket_IsUnusable_AndThenNotOffered()
    {
        string http = Path.Combine(_dir, "f.sock");
        await File.WriteAllTextAsync(http + "r", "not a socket");
        using var reader = new LocalShardReader();
        string path = reader.PathFor(http)!;
        Assert.NotNull(path);

        await Assert.ThrowsAsync<LocalSocketUnusableException>(() => reader.ReadAsync(path, [new(1, 0, 1)], [new byte[1]], CancellationToken.None));
        Assert.Null(reader.PathFor(http));
        Assert.Null(reader.PathFor(Path.Combine(_dir, "none.sock")));
        Assert.Null(reader.PathFor(null));
    }

    /// <summary>
    /// A scripted peer: for each request on each connection, <c>answer(socket, count)</c> reads the rest of the request
    /// and answers; false closes the connection.
    /// </summary>
    private sealed class Peer : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _accepted;

        public int Accepted => Volatile.Read(ref _accepted);

        private Peer(string path, Func<Socket, int, Task<bool>> answer)
        {
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(8);
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    Socket s;
                    try
                    {
                        s = await _listener.AcceptAsync(_stop.Token);
                        Interlocked.Increment(ref _accepted);
                    }
                    catch (Exception) when (_stop.IsCancellationRequested)
                    {
                        return;
                    }
                    _ = Task.Run(async () =>
                    {
                        using (s)
                        {
                            var header = new byte[4];
                            try
                            {
                                while (await s.ReceiveAsync(header, SocketFlags.None) == 4)
                                {
                                    if (!await answer(s, BinaryPrimitives.ReadInt32LittleEndian(header)))
                                        return;
                                }
                            }
                            catch (SocketException)
                            {
                            }
                        }
                    });
                }
            });
        }

        public static Peer Start(string path, Func<Socket, int, Task<bool>> answer) => new(path, answer);

        public static async Task<List<(long Handle, int Offset, int Length)>> ReadRequestAsync(Socket s, int count)
        {
            var body = new byte[16 * count];
            for (int read = 0; read < body.Length;)
                read += await s.ReceiveAsync(body.AsMemory(read), SocketFlags.None);
            return [.. Enumerable.Range(0, count).Select(i => (
                BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(16 * i)),
                BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(16 * i + 8)),
                BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(16 * i + 12))))];
        }

        public static async Task SendAsync(Socket s, byte status, long total, byte[] bytes)
        {
            var answer = new byte[9 + bytes.Length];
            answer[0] = status;
            BinaryPrimitives.WriteInt64LittleEndian(answer.AsSpan(1), total);
            bytes.CopyTo(answer, 9);
            await s.SendAsync(answer, SocketFlags.None);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Dispose();
            await _loop;
            _stop.Dispose();
        }
    }
}
