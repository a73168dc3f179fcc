using System.Buffers.Binary;
using System.Net.Sockets;
using OssOrleans.Client.Transport;

namespace OssOrleans.UnitTests.Client;

/// <summary>The client side of the raw local read socket, against a scripted peer on a Unix socket (no silo).</summary>
public sealed class RawSocketTransportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ossorleans-raw-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A location on a silo whose HTTP socket is at `name`: the peer listens beside it (+ "r"). The scripted peer runs in
    // this process, so the process id the silo would advertise is ours.
    private ShardLocation At(string name, long handle, int length, int? processId = null) =>
        new("http://127.0.0.1:1", length, 0, "silo", new LocalEndpoint(Path.Combine(_dir, name), processId ?? Environment.ProcessId, LocalMachine.BootId),
            handle, CapabilityToken.Encode(Token(handle)));

    private static byte[] Token(long handle)
    {
        var t = new byte[CapabilityToken.Bytes];
        BinaryPrimitives.WriteInt64LittleEndian(t, handle);
        return t;
    }

    private static Func<Stream, CancellationToken, Task> Into(byte[] target) => async (s, ct) => await s.ReadExactlyAsync(target, ct);

    [Fact]
    public async Task ReadMany_ItemsArriveInOrder_TokensAreSent_AndTheConnectionIsReused()
    {
        byte[] a = [1, 2, 3], b = [9, 8, 7, 6, 5];
        await using var peer = Peer.Start(Path.Combine(_dir, "s.sockr"), async (socket, count) =>
        {
            var request = await Peer.ReadRequestAsync(socket, count);
            Assert.Equal([(11L, 0, 3), (12L, 0, 5)], request.Select(r => (r.Handle, r.Offset, r.Length)));
            Assert.All(request, r => Assert.Equal(Token(r.Handle), r.Token));
            await Peer.SendAsync(socket, 0, 8, count, [.. a, .. b]);
            return true;
        });
        using var transport = new RawSocketTransport();
        var la = At("s.sock", 11, 3);
        Assert.True(transport.CanReach(la));

        for (int i = 0; i < 3; i++)
        {
            var ta = new byte[3];
            var tb = new byte[5];
            Assert.Equal(ReadStatus.Ok, await transport.ReadManyAsync([la, At("s.sock", 12, 5)], [ta, tb], CancellationToken.None));
            Assert.Equal(a, ta);
            Assert.Equal(b, tb);
        }
        Assert.Equal(1, peer.Accepted);
    }

    [Fact]
    public async Task Read_NotResidentOrForbidden_IsGone_AndTheConnectionStaysUsable()
    {
        int requests = 0;
        await using var peer = Peer.Start(Path.Combine(_dir, "n.sockr"), async (socket, count) =>
        {
            await Peer.ReadRequestAsync(socket, count);
            switch (Interlocked.Increment(ref requests))
            {
                case 1: await Peer.SendAsync(socket, 1, 0, count, []); break;
                case 2: await Peer.SendAsync(socket, 3, 0, count, []); break;
                default: await Peer.SendAsync(socket, 0, 2, count, [4, 2], before: 77, after: 88); break;
            }
            return true;
        });
        using var transport = new RawSocketTransport();
        var location = At("n.sock", 1, 2);

        Assert.Equal(ReadStatus.Gone, (await transport.ReadAsync(location, 0, 2, Into(new byte[2]), CancellationToken.None)).Status);
        Assert.Equal(ReadStatus.Gone, (await transport.ReadAsync(location, 0, 2, Into(new byte[2]), CancellationToken.None)).Status);
        var target = new byte[2];
        var read = await transport.ReadAsync(location, 0, 2, Into(target), CancellationToken.None);
        Assert.Equal(new ShardRead(ReadStatus.Ok, 77, 88), read);
        Assert.Equal([4, 2], target);
        Assert.Equal(1, peer.Accepted);
    }

    [Fact]
    public async Task Read_PeerGoneMidBody_IsAnIOException()
    {
        await using var peer = Peer.Start(Path.Combine(_dir, "g.sockr"), async (socket, count) =>
        {
            await Peer.ReadRequestAsync(socket, count);
            await Peer.SendAsync(socket, 0, 100, count, new byte[10]);
            return false; // closes with 90 bytes still announced
        });
        using var transport = new RawSocketTransport();

        var ex = await Assert.ThrowsAnyAsync<IOException>(() => transport.ReadManyAsync([At("g.sock", 1, 100)], [new byte[100]], CancellationToken.None));
        Assert.Contains("local data plane", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_PeerClosesWithTheRequestUnread_IsAnIOException()
    {
        // Closing a Unix socket with unread data resets the connection: the client sees ECONNRESET, not an end of stream.
        await using var peer = Peer.Start(Path.Combine(_dir, "r.sockr"), (socket, count) => Task.FromResult(false));
        using var transport = new RawSocketTransport();

        var ex = await Assert.ThrowsAnyAsync<IOException>(() => transport.ReadManyAsync([At("r.sock", 1, 8), At("r.sock", 2, 8)], [new byte[8], new byte[8]], CancellationToken.None));
        Assert.Contains("local data plane", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_PartReadByTheConsumer_IsNotReused()
    {
        await using var peer = Peer.Start(Path.Combine(_dir, "p.sockr"), async (socket, count) =>
        {
            await Peer.ReadRequestAsync(socket, count);
            await Peer.SendAsync(socket, 0, 4, count, [1, 2, 3, 4]);
            return true;
        });
        using var transport = new RawSocketTransport();
        var location = At("p.sock", 1, 4);

        // A consumer that stops early leaves bytes in the connection: it must not carry the next answer.
        await transport.ReadAsync(location, 0, 4, async (s, ct) => await s.ReadExactlyAsync(new byte[2], ct), CancellationToken.None);
        var all = new byte[4];
        Assert.Equal(ReadStatus.Ok, (await transport.ReadAsync(location, 0, 4, Into(all), CancellationToken.None)).Status);
        Assert.Equal([1, 2, 3, 4], all);
        Assert.Equal(2, peer.Accepted);
    }

    [Fact]
    public async Task PathThatIsNotASocket_IsUnusable_AndThenNotOffered()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "f.sock"), "");
        await File.WriteAllTextAsync(Path.Combine(_dir, "f.sockr"), "not a socket");
        using var transport = new RawSocketTransport();
        var location = At("f.sock", 1, 1);
        Assert.True(transport.CanReach(location));

        Assert.Equal(ReadStatus.Unusable, (await transport.ReadAsync(location, 0, 1, Into(new byte[1]), CancellationToken.None)).Status);
        Assert.False(transport.CanReach(location));
        Assert.False(transport.CanReach(At("none.sock", 1, 1)));
        Assert.False(transport.CanReach(location with { Local = null }));
    }

    [Fact]
    public async Task SocketOfAnotherProcess_IsUnusable_AndNothingIsSent()
    {
        // A socket planted at the advertised path answers, but it is not the silo's process: the client never sends it a
        // request (which would carry a capability) nor takes bytes from it.
        int requests = 0;
        await using var peer = Peer.Start(Path.Combine(_dir, "x.sockr"), async (socket, count) =>
        {
            Interlocked.Increment(ref requests);
            await Peer.ReadRequestAsync(socket, count);
            await Peer.SendAsync(socket, 0, 1, count, [66]);
            return true;
        });
        await File.WriteAllTextAsync(Path.Combine(_dir, "x.sock"), "");
        using var transport = new RawSocketTransport();
        var location = At("x.sock", 1, 1, processId: Environment.ProcessId + 1);

        Assert.Equal(ReadStatus.Unusable, (await transport.ReadAsync(location, 0, 1, Into(new byte[1]), CancellationToken.None)).Status);
        Assert.Equal(0, Volatile.Read(ref requests));
        Assert.False(transport.CanReach(location));
    }

    [Fact]
    public void OtherMachine_IsNotOffered()
    {
        using var transport = new RawSocketTransport();
        var location = At("s.sock", 1, 1);
        Assert.False(transport.CanReach(location with { Local = location.Local! with { BootId = "another-machine" } }));
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

        // The frame layout written out here on purpose, as an independent check of LocalReadFrames.
        public static async Task<List<(long Handle, int Offset, int Length, byte[] Token)>> ReadRequestAsync(Socket s, int count)
        {
            var body = new byte[48 * count];
            for (int read = 0; read < body.Length;)
                read += await s.ReceiveAsync(body.AsMemory(read), SocketFlags.None);
            return [.. Enumerable.Range(0, count).Select(i => (
                BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(48 * i)),
                BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(48 * i + 8)),
                BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(48 * i + 12)),
                body.AsSpan(48 * i + 16, 32).ToArray()))];
        }

        public static async Task SendAsync(Socket s, byte status, long total, int items, byte[] bytes, ulong before = 0, ulong after = 0)
        {
            int crcs = status == 0 ? 16 * items : 0;
            var answer = new byte[9 + crcs + bytes.Length];
            answer[0] = status;
            BinaryPrimitives.WriteInt64LittleEndian(answer.AsSpan(1), total);
            for (int i = 0; i < crcs / 16; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(answer.AsSpan(9 + 16 * i), before);
                BinaryPrimitives.WriteUInt64LittleEndian(answer.AsSpan(17 + 16 * i), after);
            }
            bytes.CopyTo(answer, 9 + crcs);
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
