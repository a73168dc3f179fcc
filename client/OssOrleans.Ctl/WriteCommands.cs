using OssOrleans.Client;

namespace OssOrleans.Ctl;

/// <summary>
/// <c>put</c>: uploads a local file through the cluster's checkpoint writer (parallel parts, written through into the
/// cache). The object appears only once every part is stored; an error or Ctrl+C aborts the upload.
/// </summary>
internal static class Put
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        var args = c.Positionals(2, 2);
        string path = Path.GetFullPath(args[0]);
        var uri = ObjectUri.Parse(args[1]).RequireObject();
        if (!File.Exists(path))
            throw new IOException($"no such file: {path}");
        var client = await c.ClientAsync().ConfigureAwait(false);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        long total = file.Length;
        var progress = c.Has("--quiet", "-q") || c.Json ? null : new ProgressBar(c.Err, total);
        var options = new WriteOptions { CreateOnly = c.Has("--create-only") };
        await using var upload = await client.OpenWriteAsync(uri.ToString(), options, c.CancellationToken).ConfigureAwait(false);
        var buffer = new byte[1 << 20];
        long done = 0;
        int n;
        while ((n = await file.ReadAsync(buffer, c.CancellationToken).ConfigureAwait(false)) > 0)
        {
            await upload.WriteAsync(buffer.AsMemory(0, n), c.CancellationToken).ConfigureAwait(false);
            done += n;
            progress?.Report(done);
        }
        var info = await upload.CompleteAsync(c.CancellationToken).ConfigureAwait(false);
        progress?.Finish();
        if (c.Json)
            await JsonOut.LineAsync(c, new { uri = info.Uri.ToString(), path, size = info.Size, etag = info.ETag }).ConfigureAwait(false);
        else
            await c.Out.WriteLineAsync($"{path} -> {info.Uri} ({JsonOut.Bytes(info.Size)}, ETag {info.ETag})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}

/// <summary>
/// <c>warm</c>: starts a cluster warm job for a prefix and follows its progress (objects, bytes, rate, ETA) until it ends;
/// Ctrl+C cancels the job. With <c>--detach</c> it prints the job id and leaves the job running.
/// </summary>
internal static class Warm
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        var prefix = ObjectUri.Parse(c.Positionals(1, 1)[0]);
        var client = await c.ClientAsync().ConfigureAwait(false);
        var job = await client.WarmAsync(prefix.ToString(), c.CancellationToken).ConfigureAwait(false);
        if (c.Has("--detach"))
        {
            if (c.Json)
                await JsonOut.LineAsync(c, new { jobId = job.JobId, prefix = prefix.ToString() }).ConfigureAwait(false);
            else
                await c.Out.WriteLineAsync(job.JobId).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        bool quiet = c.Has("--quiet", "-q") || c.Json;
        var shown = new Progress<WarmJobProgress>(p =>
        {
            if (!quiet)
                c.Err.Write($"\r{Line(p)}   ");
        });
        WarmJobProgress final;
        try
        {
            final = await job.WaitAsync(shown, c.CancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (c.CancellationToken.IsCancellationRequested)
        {
            // The job runs in the cluster; leaving must not leave it warming behind the user's back.
            await job.CancelAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (!quiet)
            await c.Err.WriteLineAsync().ConfigureAwait(false);
        if (c.Json)
            await JsonOut.LineAsync(c, final).ConfigureAwait(false);
        else
            await c.Out.WriteLineAsync($"{final.JobId} {final.State}: {Line(final)}").ConfigureAwait(false);
        if (final.State == WarmJobState.Failed)
            throw new InvalidOperationException($"warm job {final.JobId} failed: {final.Error}");
        return final.State == WarmJobState.Completed ? ExitCodes.Ok : ExitCodes.Error;
    }

    private static string Line(WarmJobProgress p) =>
        $"{p.ObjectsDone}/{p.ObjectsTotal} objects, {JsonOut.Bytes(p.BytesDone)} / {JsonOut.Bytes(p.BytesTotal)}, " +
        $"{JsonOut.Bytes((long)p.BytesPerSecond)}/s" + (p.Eta is { } eta ? $", ETA {eta:hh\\:mm\\:ss}" : "");
}

/// <summary><c>prepare-dir</c>: materializes every object under a prefix into a local directory, from the cluster.</summary>
internal static class PrepareDir
{
    public static async Task<int> RunAsync(CommandContext c)
    {
        var args = c.Positionals(2, 2);
        var prefix = ObjectUri.Parse(args[0]);
        string dir = Path.GetFullPath(args[1]);
        var client = await c.ClientAsync().ConfigureAwait(false);
        bool quiet = c.Has("--quiet", "-q") || c.Json;
        ProgressBar? bar = null;
        var progress = new Progress<TransferProgress>(p =>
        {
            if (quiet)
                return;
            bar ??= new ProgressBar(c.Err, p.BytesTotal);
            bar.Report(p.BytesDone);
        });
        var result = await client.PrepareDirectoryAsync(prefix.ToString(), dir, progress: progress, cancellationToken: c.CancellationToken).ConfigureAwait(false);
        bar?.Finish();
        if (c.Json)
            await JsonOut.LineAsync(c, result).ConfigureAwait(false);
        else
            await c.Out.WriteLineAsync($"{prefix} -> {result.Directory}: {result.Files} files ({result.FilesWritten} written, {result.FilesSkipped} up to date), {JsonOut.Bytes(result.Bytes)} in {result.Elapsed.TotalSeconds:0.0} s").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
