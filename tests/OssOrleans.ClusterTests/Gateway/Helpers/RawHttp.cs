using System.Net.Sockets;
using System.Text;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>Requests no HTTP client library would send: a body that stops halfway, headers as written.</summary>
internal static class RawHttp
{
    public static async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, IReadOnlyDictionary<string, string> headers, byte[]? body = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
            request.Content = new ByteArrayContent(body);
        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return await http.SendAsync(request);
    }

    /// <summary>
    /// Opens a connection and sends a request's head and the first <paramref name="sent"/> bytes of a body that claims
    /// <paramref name="contentLength"/>; the caller holds the connection (the body never finishes) and reads the answer.
    /// </summary>
    public static async Task<NetworkStream> StartStalledAsync(string url, string method, long contentLength, int sent, IReadOnlyDictionary<string, string>? headers = null)
    {
        var uri = new Uri(url);
        var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        var stream = client.GetStream();
        var head = new StringBuilder($"{method} {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Length: {contentLength}\r\n");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(new byte[sent]);
        await stream.FlushAsync();
        return stream;
    }

    /// <summary>What the server answers on a raw connection (status line and body), waiting at most <paramref name="timeout"/>.</summary>
    public static async Task<string> ReadAnswerAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[16 * 1024];
        var text = new StringBuilder();
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                text.Append(Encoding.UTF8.GetString(buffer, 0, n));
                if (text.ToString().Contains("</Error>", StringComparison.Ordinal))
                    break;
            }
        }
        catch (IOException)
        {
            // The server may close the connection after answering.
        }
        return text.ToString();
    }
}
