using System.Globalization;
using System.Text.Json;
using OssOrleans.Client;

namespace OssOrleans.Ctl;

internal static class JsonOut
{
    // Relaxed escaping: ETags keep their quotes readable ("\"abc\"" rather than \u0022); the output is never HTML.
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task LineAsync<T>(CommandContext c, T value) => c.Out.WriteLineAsync(JsonSerializer.Serialize(value, Options));

    public static string Bytes(long n)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = n;
        int i = 0;
        while (v >= 1024 && i < units.Length - 1)
        {
            v /= 1024;
            i++;
        }
        return i == 0 ? $"{n} B" : v.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[i];
    }
}

/// <summary><c>ls</c>: text is one line per entry; <c>--json</c> is one JSON object per line (JSON Lines), so it streams.</summary>
internal static class Ls
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        var uri = ObjectUri.Parse(c.Positionals(1, 1)[0]);
        var options = new ListOptions
        {
            Fast = c.Has("--fast"),
            Delimiter = c.Has("--recursive", "-r") ? null : "/",
            Sorted = c.Has("--sorted") || !c.Has("--fast"),
        };
        var client = await c.ClientAsync().ConfigureAwait(false);
        await foreach (var e in client.ListAsync(uri, options, c.CancellationToken).ConfigureAwait(false))
        {
            string full = new ObjectUri(uri.Bucket, e.Key).ToString();
            if (c.Json)
                await JsonOut.LineAsync(c, new { uri = full, key = e.Key, size = e.Size, etag = e.ETag, lastModified = e.IsPrefix ? (DateTimeOffset?)null : e.LastModified, isPrefix = e.IsPrefix }).ConfigureAwait(false);
            else if (e.IsPrefix)
                await c.Out.WriteLineAsync($"{"PRE",30} {full}").ConfigureAwait(false);
            else
                await c.Out.WriteLineAsync($"{e.LastModified.UtcDateTime:yyyy-MM-dd HH:mm:ss} {e.Size,12} {full}").ConfigureAwait(false);
        }
        return ExitCodes.Ok;
    }
}

internal static class Stat
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        string uri = c.Positionals(1, 1)[0];
        ObjectUri.Parse(uri).RequireObject();
        var client = await c.ClientAsync().ConfigureAwait(false);
        var info = await client.StatAsync(uri, c.CancellationToken).ConfigureAwait(false);
        string? crc = info.Crc64?.ToString("x16", CultureInfo.InvariantCulture);
        if (c.Json)
        {
            await JsonOut.LineAsync(c, new { uri = info.Uri.ToString(), size = info.Size, etag = info.ETag, lastModified = info.LastModified, crc64 = crc, shardSize = info.ShardSize, shardCount = info.ShardCount }).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        await c.Out.WriteLineAsync($"uri:           {info.Uri}").ConfigureAwait(false);
        await c.Out.WriteLineAsync($"size:          {info.Size} ({JsonOut.Bytes(info.Size)})").ConfigureAwait(false);
        await c.Out.WriteLineAsync($"etag:          {info.ETag}").ConfigureAwait(false);
        await c.Out.WriteLineAsync($"last-modified: {info.LastModified.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}").ConfigureAwait(false);
        await c.Out.WriteLineAsync($"crc64:         {crc ?? "-"}").ConfigureAwait(false);
        await c.Out.WriteLineAsync($"shards:        {info.ShardCount} of {JsonOut.Bytes(info.ShardSize)}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}

internal static class Cat
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        string uri = c.Positionals(1, 1)[0];
        ObjectUri.Parse(uri).RequireObject();
        if (c.Json)
            throw new UsageException("cat writes raw bytes; --json does not apply");
        var client = await c.ClientAsync().ConfigureAwait(false);
        await using var stream = await client.OpenReadAsync(uri, c.CancellationToken).ConfigureAwait(false);
        await c.Out.FlushAsync(c.CancellationToken).ConfigureAwait(false);
        await stream.CopyToAsync(c.RawOut, 1 << 20, c.CancellationToken).ConfigureAwait(false);
        await c.RawOut.FlushAsync(c.CancellationToken).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}

/// <summary>
/// <c>get</c>: downloads into a temporary file beside the target and renames it into place once complete, so an
/// interrupted download never leaves a partial file under the final name.
/// </summary>
internal static class Get
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        var args = c.Positionals(1, 2);
        var uri = ObjectUri.Parse(args[0]).RequireObject();
        string target = args.Count == 2 ? args[1] : DefaultFileName(uri);
        if (Directory.Exists(target))
            target = Path.Combine(target, DefaultFileName(uri));
        target = Path.GetFullPath(target);

        var client = await c.ClientAsync().ConfigureAwait(false);
        await using var stream = await client.OpenReadAsync(uri.ToString(), c.CancellationToken).ConfigureAwait(false);
        long total = stream.Length;
        string temp = target + ".ossctl-" + Guid.NewGuid().ToString("N")[..8] + ".part";
        var progress = c.Has("--quiet", "-q") || c.Json ? null : new ProgressBar(c.Err, total);
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                file.SetLength(total);
                var buffer = new byte[1 << 20];
                long done = 0;
                int n;
                while ((n = await stream.ReadAsync(buffer, c.CancellationToken).ConfigureAwait(false)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, n), c.CancellationToken).ConfigureAwait(false);
                    done += n;
                    progress?.Report(done);
                }
                if (done != total)
                    throw new IOException($"{uri}: read {done} of {total} bytes");
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        progress?.Finish();
        if (c.Json)
            await JsonOut.LineAsync(c, new { uri = uri.ToString(), path = target, size = total }).ConfigureAwait(false);
        else
            await c.Out.WriteLineAsync($"{uri} -> {target} ({JsonOut.Bytes(total)})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    // Only the key's last segment, so a key like "a/../../etc/x" cannot pick a path outside the working folder.
    private static string DefaultFileName(ObjectUri uri)
    {
        string name = uri.Key[(uri.Key.LastIndexOf('/') + 1)..];
        if (name is "" or "." or ".." || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"cannot name a local file after '{uri}'; give a local path");
        return name;
    }
}

/// <summary>A one-line progress bar redrawn with '\r' on standard error, at most every 100 ms.</summary>
internal sealed class ProgressBar(TextWriter err, long total)
{
    private readonly long _start = Environment.TickCount64;
    private long _lastDraw = -1000;
    private long _drawn = -1;

    public void Report(long done)
    {
        long now = Environment.TickCount64;
        if (now - _lastDraw < 100 && done < total)
            return;
        _lastDraw = now;
        Draw(done, now);
    }

    public void Finish()
    {
        if (_drawn != total)
            Draw(total, Environment.TickCount64);
        err.WriteLine();
        err.Flush();
    }

    private void Draw(long done, long now)
    {
        const int width = 30;
        double fraction = total == 0 ? 1 : (double)done / total;
        int filled = (int)(fraction * width);
        double seconds = Math.Max(0.001, (now - _start) / 1000.0);
        _drawn = done;
        err.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,5:0.0}% {JsonOut.Bytes(done)} / {JsonOut.Bytes(total)} {JsonOut.Bytes((long)(done / seconds))}/s ");
        err.Flush();
    }
}

internal static class Stats
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        c.Positionals(0, 0);
        var client = await c.ClientAsync().ConfigureAwait(false);
        var silos = await client.GetClusterStatsAsync(c.CancellationToken).ConfigureAwait(false);
        long hits = silos.Sum(s => s.Hits), misses = silos.Sum(s => s.Misses);
        double ratio = hits + misses == 0 ? 0 : (double)hits / (hits + misses);
        if (c.Json)
        {
            await JsonOut.LineAsync(c, new
            {
                activeSilos = silos.Count,
                hitRatio = ratio,
                capacityBytes = silos.Sum(s => s.CapacityBytes),
                usedBytes = silos.Sum(s => s.UsedBytes),
                bytesFromOrigin = silos.Sum(s => s.BytesFromOrigin),
                originRequests = silos.Sum(s => s.OriginRequests),
                silos,
            }).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        await c.Out.WriteLineAsync($"{"silo",-34} {"used",10} {"capacity",10} {"shards",7} {"hits",9} {"misses",9} {"from origin",12} {"evictions",9} {"crc fail",8}").ConfigureAwait(false);
        foreach (var s in silos)
            await c.Out.WriteLineAsync($"{s.Silo,-34} {JsonOut.Bytes(s.UsedBytes),10} {JsonOut.Bytes(s.CapacityBytes),10} {s.Shards,7} {s.Hits,9} {s.Misses,9} {JsonOut.Bytes(s.BytesFromOrigin),12} {s.Evictions,9} {s.CrcFailures,8}").ConfigureAwait(false);
        await c.Out.WriteLineAsync($"{silos.Count} active silo(s); hit ratio {ratio * 100:0.0}%; {JsonOut.Bytes(silos.Sum(s => s.UsedBytes))} of {JsonOut.Bytes(silos.Sum(s => s.CapacityBytes))} used").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
