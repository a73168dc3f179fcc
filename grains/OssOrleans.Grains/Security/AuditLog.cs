using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OssOrleans.Grains.Security;

/// <summary>
/// The optional audit log (<see cref="AuthOptions.AuditPath"/>): one JSON line per authenticated client request,
/// <c>{"time","tenant","verb","uri","bytes","result"}</c>. Never a secret, token or signature: the line names who did what
/// to which object and how it ended. Lines are queued (bounded) and written by one background task, so a slow disk does
/// not slow requests; lines dropped when the queue is full are counted in a line of their own.
/// </summary>
public sealed partial class AuditLog : IAsyncDisposable
{
    private const int QueueLines = 100_000;

    private readonly Channel<byte[]>? _lines;
    private readonly Task _writer = Task.CompletedTask;
    private readonly ILogger<AuditLog> _logger;
    private long _dropped;

    public AuditLog(IOptions<AuthOptions> options, ILogger<AuditLog> logger)
    {
        _logger = logger;
        string? path = options.Value.AuditPath;
        if (string.IsNullOrEmpty(path))
            return;
        var file = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        // Who read what is private too.
        if (!OperatingSystem.IsWindows())
            file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var stream = new FileStream(Path.GetFullPath(path), file);
        _lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(QueueLines) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
        _writer = Task.Run(() => WriteAsync(stream, _lines.Reader));
    }

    public bool Enabled => _lines is not null;

    /// <summary>Queues one line; <paramref name="result"/> is <c>ok</c> or the refusal or error, in a few words.</summary>
    public void Write(string tenant, string verb, string uri, long bytes, string result)
    {
        if (_lines is null)
            return;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("tenant", tenant);
            json.WriteString("verb", verb);
            json.WriteString("uri", uri);
            json.WriteNumber("bytes", bytes);
            json.WriteString("result", result);
            json.WriteEndObject();
        }
        var line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        if (!_lines.Writer.TryWrite(line))
            Interlocked.Increment(ref _dropped);
    }

    private async Task WriteAsync(FileStream stream, ChannelReader<byte[]> lines)
    {
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                while (await lines.WaitToReadAsync().ConfigureAwait(false))
                {
                    while (lines.TryRead(out var line))
                        await stream.WriteAsync(line).ConfigureAwait(false);
                    long dropped = Interlocked.Exchange(ref _dropped, 0);
                    if (dropped > 0)
                    {
                        var note = System.Text.Encoding.UTF8.GetBytes($"{{\"time\":\"{DateTimeOffset.UtcNow:O}\",\"dropped\":{dropped}}}\n");
                        await stream.WriteAsync(note).ConfigureAwait(false);
                    }
                    await stream.FlushAsync().ConfigureAwait(false);
                }
            }
            catch (IOException ex)
            {
                LogWriteFailed(_logger, ex.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines?.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 2900, Level = LogLevel.Error, Message = "The audit log cannot be written any more: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string error);
}
