using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// curl, as an attacker uses it against a data plane: plain requests with whatever path, query, headers and body it
/// chooses, and a hand-written request for bodies it never sends. No OssOrleans code on this side.
/// </summary>
public sealed class RawHttp : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public sealed record Answer(HttpStatusCode Status, byte[] Body);

    public async Task<Answer> SendAsync(HttpMethod method, string url, string? body = null, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.ASCII, "text/plain");
        foreach (var (name, value) in headers ?? [])
            request.Headers.TryAddWithoutValidation(name, value);
        using var response = await _http.SendAsync(request);
        return new Answer(response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    public Task<Answer> GetAsync(string url) => SendAsync(HttpMethod.Get, url);

    /// <summary>
    /// Sends a PUT's head declaring <paramref name="contentLength"/> body bytes, then waits for the status line without
    /// sending a byte of the body. Returns the status and how long the answer took.
    /// </summary>
    public static async Task<(int Status, TimeSpan Took)> SendHeadOnlyAsync(int port, string pathAndQuery, long contentLength, TimeSpan timeout)
    {
        using var connection = await OpenHeadAsync(port, pathAndQuery, contentLength);
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(timeout);
        int status = await ReadStatusAsync(connection.GetStream(), cts.Token);
        return (status, clock.Elapsed);
    }

    /// <summary>A connection on which a request's head (declaring <paramref name="contentLength"/> body bytes) has been sent, and nothing else.</summary>
    public static async Task<TcpClient> OpenHeadAsync(int port, string pathAndQuery, long contentLength)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        string head = string.Create(CultureInfo.InvariantCulture,
            $"PUT {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/octet-stream\r\nContent-Length: {contentLength}\r\n\r\n");
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));
        return client;
    }

    /// <summary>The status code of the response on <paramref name="stream"/>; 0 when the server closed without one.</summary>
    public static async Task<int> ReadStatusAsync(Stream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(one, cancellationToken);
            }
            catch (IOException)
            {
                n = 0;
            }
            if (n == 0)
                return 0;
            if (one[0] == '\n')
                break;
            line.Append((char)one[0]);
        }
        // "HTTP/1.1 403 Forbidden"
        var parts = line.ToString().Split(' ', 3);
        return parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status) ? status : -1;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// A client of a silo's raw local read socket written from the frame layout alone (grains/OssOrleans.Abstractions/
/// LocalReadFrames.cs), as a process on the silo's machine would: count, then per item handle, offset, length and a
/// 32-byte token; the answer is a status byte and the total length.
/// </summary>
public static class RawSocketClient
{
    public const byte Ok = 0, NotResident = 1, BadRequest = 2, Forbidden = 3;

    public sealed record Answer(byte Status, long Total, byte[] Bytes);

    /// <summary>Asks for bytes [offset, offset + length) of <paramref name="handle"/> with <paramref name="token"/>.</summary>
    public static async Task<Answer> ReadAsync(string socketPath, long handle, int offset, int length, byte[] token)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        var request = new byte[4 + 16 + 32];
        BinaryPrimitives.WriteInt32LittleEndian(request, 1);
        BinaryPrimitives.WriteInt64LittleEndian(request.AsSpan(4), handle);
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(12), offset);
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(16), length);
        token.AsSpan(0, 32).CopyTo(request.AsSpan(20));
        await socket.SendAsync(request);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = new byte[9];
        await ReceiveExactlyAsync(socket, answer, timeout.Token);
        byte status = answer[0];
        long total = BinaryPrimitives.ReadInt64LittleEndian(answer.AsSpan(1));
        if (status != Ok)
            return new Answer(status, total, []);
        // 16 bytes of CRCs per item, then the bytes.
        await ReceiveExactlyAsync(socket, new byte[16], timeout.Token);
        var bytes = new byte[total];
        await ReceiveExactlyAsync(socket, bytes, timeout.Token);
        return new Answer(status, total, bytes);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken);
            if (n == 0)
                throw new IOException($"the silo closed the raw socket after {read} of {buffer.Length} bytes");
            read += n;
        }
    }
}

/// <summary>Capability tokens as an attacker handles them: base64url text of 32 bytes (expiry, tenant tag, MAC).</summary>
public static class Tokens
{
    public static byte[] Decode(string token) => Base64Url.DecodeFromChars(token);

    public static string Encode(byte[] raw) => Base64Url.EncodeToString(raw);

    /// <summary>The token with one bit of byte <paramref name="index"/> flipped.</summary>
    public static string Flip(string token, int index)
    {
        var raw = Decode(token);
        raw[index] ^= 0x01;
        return Encode(raw);
    }

    /// <summary>The expiry the token carries in its first 8 bytes (Unix seconds, little-endian).</summary>
    public static DateTimeOffset ExpiresAt(string token) =>
        DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64LittleEndian(Decode(token)));

    /// <summary>The token with its expiry moved <paramref name="by"/> later (the MAC left as it was).</summary>
    public static string Extend(string token, TimeSpan by)
    {
        var raw = Decode(token);
        long expiry = BinaryPrimitives.ReadInt64LittleEndian(raw);
        BinaryPrimitives.WriteInt64LittleEndian(raw, expiry + (long)by.TotalSeconds);
        return Encode(raw);
    }
}
