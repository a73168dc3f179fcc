using System.Buffers.Binary;
using System.Net.Sockets;

namespace OssOrleans.Client.Transport;

/// <summary>
/// Whether a silo's Unix socket may be used: the location says the silo runs on a machine with this machine's boot id,
/// the socket file exists here, and the process at the other end of a connection is the silo's own process (its pid, from
/// the kernel, SO_PEERCRED). A socket file someone else put at the advertised path, or a path that merely exists here
/// too, fails the last check, and the client reads over TCP instead.
/// </summary>
internal static class LocalPeer
{
    private const int SolSocket = 1, SoPeerCred = 17;

    /// <summary>The cheap check, before any connection: the silo says it runs on this machine (and this boot of it).</summary>
    public static bool MayBeLocal([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] LocalEndpoint? local) =>
        local is not null && local.BootId.Length > 0 && local.BootId == LocalMachine.BootId;

    /// <summary>True when the peer of a connected Unix socket is process <paramref name="processId"/>.</summary>
    public static bool IsProcess(Socket socket, int processId)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            return socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) == 12
                && BinaryPrimitives.ReadInt32LittleEndian(credentials) == processId;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Connects to a silo's Unix socket and checks that the silo's process answers; throws <see cref="LocalSocketUnusableException"/> otherwise.</summary>
    public static async Task<Socket> ConnectAsync(string path, int processId, int bufferSize, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.SendBufferSize = bufferSize;
            socket.ReceiveBufferSize = bufferSize;
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new LocalSocketUnusableException(path, ex.Message, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        if (!IsProcess(socket, processId))
        {
            socket.Dispose();
            throw new LocalSocketUnusableException(path, $"the process at the other end is not the silo's (pid {processId})");
        }
        return socket;
    }
}

/// <summary>A silo's Unix socket could not be used; the caller reads another way.</summary>
internal sealed class LocalSocketUnusableException(string path, string reason, Exception? inner = null)
    : IOException($"local data plane socket {path} cannot be used: {reason}", inner);
