using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Win32.SafeHandles;

namespace OssOrleans.Client;

/// <summary>
/// Materializes a prefix into a local directory from the cluster: shards of all files are fetched in parallel (in key
/// order) and written in place at their offsets; each file is written under a temporary name and renamed when complete
/// and its size checked, so a reader never sees a half-written file under its real name.
/// </summary>
internal sealed class DirectoryPreparer(OssCacheClient client, PrepareOptions options, IProgress<TransferProgress>? progress)
{
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private long _bytesDone, _bytesTotal, _lastReportTicks = long.MinValue;
    private int _filesDone, _filesTotal;

    public async Task<PrepareResult> RunAsync(ObjectUri prefixUri, string localDir, CancellationToken cancellationToken)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(localDir));
        string prefix = DirectoryPlan.DirectoryPrefix(prefixUri.Key);
        var listed = new List<ObjectEntry>();
        var listOptions = new ListOptions { Fast = options.FastList };
        await foreach (var entry in client.ListAsync(new ObjectUri(prefixUri.Bucket, prefix), listOptions, cancellationToken).ConfigureAwait(false))
            listed.Add(entry);
        listed.Sort((a, b) => KeyOrder.Compare(a.Key, b.Key));

        // Every key is checked before anything is written.
        var plan = DirectoryPlan.Build(prefix, listed, root);
        Directory.CreateDirectory(root);
        DirectoryPlan.CheckExisting(root, plan);

        var manifest = Manifest.Read(root);
        var infos = new ObjectInfo[plan.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Count), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (i, ct) => infos[i] = await client.StatAsync(new ObjectUri(prefixUri.Bucket, plan[i].Entry.Key), ct).ConfigureAwait(false)).ConfigureAwait(false);

        var jobs = new List<FileJob>();
        var done = new Dictionary<string, Manifest.Entry>(DirectoryPlan.PathComparer);
        int skipped = 0;
        long totalBytes = 0;
        for (int i = 0; i < plan.Count; i++)
        {
            var info = infos[i];
            totalBytes += info.Size;
            // Stale content: a file is kept only when an earlier run recorded this very version (ETag and size) for it and
            // its size on disk still matches; anything else is written again. Files not under the prefix are left alone.
            if (manifest.TryGetValue(plan[i].RelativePath, out var known) && known.ETag == info.ETag && known.Size == info.Size
                && File.Exists(plan[i].FullPath) && new FileInfo(plan[i].FullPath).Length == info.Size)
            {
                skipped++;
                done[plan[i].RelativePath] = known;
                continue;
            }
            jobs.Add(new FileJob(plan[i], info));
        }
        _filesTotal = plan.Count;
        _filesDone = skipped;
        _bytesTotal = totalBytes;
        _bytesDone = totalBytes - jobs.Sum(j => j.Info.Size);
        Report(force: true);

        try
        {
            var work = jobs.SelectMany(j => Enumerable.Range(0, Math.Max(1, j.Info.ShardCount)).Select(i => (Job: j, Index: i)));
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken },
                async (item, ct) =>
                {
                    var job = item.Job;
                    var handle = job.Open();
                    if (job.Info.Size > 0)
                    {
                        using var shard = await client.Shards.FetchAsync(job.Info, item.Index, ct).ConfigureAwait(false);
                        await RandomAccess.WriteAsync(handle, shard.Memory, (long)item.Index * job.Info.ShardSize, ct).ConfigureAwait(false);
                        Interlocked.Add(ref job.Written, shard.Length);
                        Interlocked.Add(ref _bytesDone, shard.Length);
                    }
                    if (Interlocked.Decrement(ref job.Remaining) == 0)
                    {
                        job.Finish();
                        lock (done)
                            done[job.File.RelativePath] = new Manifest.Entry(job.Info.ETag, job.Info.Size);
                        Interlocked.Increment(ref _filesDone);
                    }
                    Report(force: false);
                }).ConfigureAwait(false);
        }
        finally
        {
            foreach (var job in jobs)
                job.Discard();
            // What is on disk and complete is recorded even after a failure, so a rerun skips it.
            Manifest.Write(root, done);
        }
        Report(force: true);
        return new PrepareResult(root, plan.Count, jobs.Count, skipped, totalBytes, jobs.Sum(j => j.Info.Size), _elapsed.Elapsed);
    }

    private void Report(bool force)
    {
        if (progress is null)
            return;
        long now = _elapsed.Elapsed.Ticks;
        long last = Interlocked.Read(ref _lastReportTicks);
        if (!force && now - last < options.ProgressInterval.Ticks)
            return;
        if (!force && Interlocked.CompareExchange(ref _lastReportTicks, now, last) != last)
            return;
        Interlocked.Exchange(ref _lastReportTicks, now);
        double seconds = _elapsed.Elapsed.TotalSeconds;
        long bytes = Interlocked.Read(ref _bytesDone);
        progress.Report(new TransferProgress(Volatile.Read(ref _filesDone), _filesTotal, bytes, _bytesTotal, seconds > 0 ? bytes / seconds : 0));
    }

    /// <summary>One file being written: opened on its first shard, renamed into place after its last.</summary>
    private sealed class FileJob(PlannedFile file, ObjectInfo info)
    {
        private readonly object _gate = new();
        private SafeFileHandle? _handle;
        private string? _temp;
        private bool _finished;
        public long Written;
        public int Remaining = Math.Max(1, info.ShardCount);

        public PlannedFile File { get; } = file;
        public ObjectInfo Info { get; } = info;

        public SafeFileHandle Open()
        {
            lock (_gate)
            {
                if (_handle is not null)
                    return _handle;
                string dir = Path.GetDirectoryName(File.FullPath)!;
                Directory.CreateDirectory(dir);
                _temp = Path.Combine(dir, $".{Path.GetFileName(File.FullPath)}.{Guid.NewGuid():N}.part");
                _handle = System.IO.File.OpenHandle(_temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous, preallocationSize: Info.Size);
                return _handle;
            }
        }

        public void Finish()
        {
            lock (_gate)
            {
                long length = RandomAccess.GetLength(_handle!);
                _handle!.Dispose();
                _handle = null;
                if (Written != Info.Size || length != Info.Size)
                    throw new IOException($"'{File.FullPath}': wrote {Written} bytes ({length} on disk) of {Info.Uri}, which has {Info.Size}");
                // Replaces an older file of that name, or a symbolic link there (the link itself, never its target).
                System.IO.File.Move(_temp!, File.FullPath, overwrite: true);
                _finished = true;
            }
        }

        public void Discard()
        {
            lock (_gate)
            {
                _handle?.Dispose();
                _handle = null;
                if (!_finished && _temp is not null)
                {
                    try
                    {
                        System.IO.File.Delete(_temp);
                    }
                    catch (IOException)
                    {
                        // Best effort: a leftover .part file is ignored by later runs.
                    }
                }
            }
        }
    }
}

/// <summary>The record of prepared files (<see cref="DirectoryPlan.ManifestName"/>): path, ETag and size of each.</summary>
internal static class Manifest
{
    internal sealed record Entry(string ETag, long Size);

    public static Dictionary<string, Entry> Read(string root)
    {
        string path = Path.Combine(root, DirectoryPlan.ManifestName);
        try
        {
            if (File.Exists(path) && JsonSerializer.Deserialize(File.ReadAllBytes(path), ManifestJson.Default.DictionaryStringEntry) is { } read)
                return new Dictionary<string, Entry>(read, DirectoryPlan.PathComparer);
        }
        catch (JsonException)
        {
            // A damaged record only costs rewriting the files.
        }
        return new Dictionary<string, Entry>(DirectoryPlan.PathComparer);
    }

    public static void Write(string root, Dictionary<string, Entry> files)
    {
        string path = Path.Combine(root, DirectoryPlan.ManifestName);
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".part";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, Entry>(files, StringComparer.Ordinal), ManifestJson.Default.DictionaryStringEntry));
        File.Move(temp, path, overwrite: true);
    }
}

[JsonSerializable(typeof(Dictionary<string, Manifest.Entry>))]
internal sealed partial class ManifestJson : JsonSerializerContext;
