using System.Formats.Tar;

namespace OssOrleans.Client.Datasets.Tar;

/// <summary>Progress of a tar tool: members written (or indexed) and their bytes so far.</summary>
public readonly record struct TarProgress(long Members, long Bytes);

/// <summary>What a tar tool did: the members it wrote or indexed, their bytes, and what it skipped and why.</summary>
public sealed record TarToolResult(long Members, long Bytes, IReadOnlyList<TarSkippedEntry> Skipped);

/// <summary>
/// Builds tar archives and their indexes (format: <see cref="TarIndex"/>). Archives are POSIX pax, readable by every
/// common tar tool. Member names are checked with <see cref="TarScanner.CheckName"/>; entries that fail are skipped with
/// the reason. Destinations are local files: upload the pair with any S3/OSS tool, then read them with
/// <see cref="OssMapDataset.FromTarAsync"/>.
/// </summary>
public static class TarTools
{
    /// <summary>The index path used when none is given: the tar path plus ".index".</summary>
    public static string DefaultIndexPath(string tarPath) => tarPath + ".index";

    /// <summary>
    /// Packs every regular file under <paramref name="folder"/> (names relative to it, in ordinal order; symbolic links are
    /// not followed) into a tar and its index.
    /// </summary>
    public static async Task<TarToolResult> CreateFromFolderAsync(string folder, string tarPath, string? indexPath = null,
        IProgress<TarProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"folder '{folder}' does not exist");
        var skipped = new List<TarSkippedEntry>();
        var files = new List<(string Name, string Path)>();
        // Symbolic links (to files or folders) are not followed: what is packed is what lies under the folder.
        foreach (var path in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false }))
        {
            string name = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (TarScanner.CheckName(name) is string reason)
            {
                skipped.Add(new TarSkippedEntry(name, -1, reason));
                continue;
            }
            files.Add((name, path));
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        return await WriteAsync(tarPath, indexPath, skipped, progress, async (add, ct) =>
        {
            foreach (var (name, path) in files)
            {
                var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                await using (fs.ConfigureAwait(false))
                {
                    await add(name, fs, File.GetLastWriteTimeUtc(path), ct).ConfigureAwait(false);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Packs every object under <paramref name="prefixUri"/> (names relative to the prefix, in key order) into a tar and its
    /// index, reading through the cluster with a window of objects fetched ahead.
    /// </summary>
    public static async Task<TarToolResult> CreateFromPrefixAsync(OssCacheClient client, string prefixUri, string tarPath, string? indexPath = null,
        IProgress<TarProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var prefix = ObjectUri.Parse(prefixUri);
        var skipped = new List<TarSkippedEntry>();
        var entries = new List<(string Name, ObjectEntry Entry)>();
        await foreach (var e in client.ListAsync(prefix, new ListOptions { Sorted = true }, cancellationToken).ConfigureAwait(false))
        {
            if (e.IsPrefix || e.Key.EndsWith('/'))
                continue;
            string name = e.Key[prefix.Key.Length..];
            if (TarScanner.CheckName(name) is string reason)
            {
                skipped.Add(new TarSkippedEntry(name, -1, reason));
                continue;
            }
            entries.Add((name, e));
        }

        int shardSize = 0;
        return await WriteAsync(tarPath, indexPath, skipped, progress, async (add, ct) =>
        {
            // Small objects are fetched whole, a window ahead of the writer; large ones are streamed in turn.
            const long Small = 8L << 20;
            const int Window = 16;
            var ahead = new Queue<Task<byte[]>?>();
            int next = 0;
            for (int i = 0; i < entries.Count; i++)
            {
                while (next < entries.Count && next < i + Window)
                {
                    var e = entries[next++].Entry;
                    ahead.Enqueue(e.Size <= Small ? FetchAsync(e, ct) : null);
                }
                var (name, entry) = entries[i];
                var pending = ahead.Dequeue();
                if (pending is not null)
                {
                    var bytes = await pending.ConfigureAwait(false);
                    await add(name, new MemoryStream(bytes, writable: false), entry.LastModified.UtcDateTime, ct).ConfigureAwait(false);
                }
                else
                {
                    var info = await InfoAsync(entry, ct).ConfigureAwait(false);
                    var stream = new ShardedReadStream(client.Shards, info, client.Options.ReadAheadShards);
                    await using (stream.ConfigureAwait(false))
                    {
                        await add(name, stream, entry.LastModified.UtcDateTime, ct).ConfigureAwait(false);
                    }
                }
            }
        }, cancellationToken).ConfigureAwait(false);

        async Task<ObjectInfo> InfoAsync(ObjectEntry e, CancellationToken ct)
        {
            if (shardSize == 0)
                shardSize = (await client.StatAsync(new ObjectUri(prefix.Bucket, e.Key), ct).ConfigureAwait(false)).ShardSize;
            return new ObjectInfo(new ObjectUri(prefix.Bucket, e.Key), e.Size, e.ETag, e.LastModified, null, shardSize);
        }

        async Task<byte[]> FetchAsync(ObjectEntry e, CancellationToken ct)
        {
            var data = GC.AllocateUninitializedArray<byte>((int)e.Size);
            if (e.Size > 0)
                await RangeReader.FillAsync(client.Shards, await InfoAsync(e, ct).ConfigureAwait(false), [new RangeReader.Target(0, data)], 4, ct).ConfigureAwait(false);
            return data;
        }
    }

    /// <summary>Indexes an existing tar object by reading its headers through the cluster; writes the index to a local file.</summary>
    public static async Task<TarToolResult> CreateIndexAsync(OssCacheClient client, string tarUri, string indexPath,
        IProgress<TarProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var info = await client.StatAsync(tarUri, cancellationToken).ConfigureAwait(false);
        var stream = new ShardedReadStream(client.Shards, info, client.Options.ReadAheadShards);
        await using (stream.ConfigureAwait(false))
        {
            return await IndexAsync(stream, indexPath, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Indexes a local tar file.</summary>
    public static async Task<TarToolResult> CreateIndexAsync(string tarPath, string indexPath,
        IProgress<TarProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var stream = new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            return await IndexAsync(stream, indexPath, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<TarToolResult> IndexAsync(Stream tar, string indexPath, IProgress<TarProgress>? progress, CancellationToken cancellationToken)
    {
        var skipped = new List<TarSkippedEntry>();
        long members = 0, bytes = 0;
        string temp = indexPath + ".partial";
        var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await using (output.ConfigureAwait(false))
        {
            await TarIndex.WriteAsync(Counted(TarScanner.ScanAsync(tar, skipped.Add, cancellationToken)), output, cancellationToken).ConfigureAwait(false);
        }
        File.Move(temp, indexPath, overwrite: true);
        return new TarToolResult(members, bytes, skipped);

        async IAsyncEnumerable<TarMember> Counted(IAsyncEnumerable<TarMember> source)
        {
            await foreach (var m in source.ConfigureAwait(false))
            {
                members++;
                bytes += m.Size;
                if (members % 1000 == 0)
                    progress?.Report(new TarProgress(members, bytes));
                yield return m;
            }
            progress?.Report(new TarProgress(members, bytes));
        }
    }

    private delegate Task AddMember(string name, Stream data, DateTime modified, CancellationToken cancellationToken);

    // Writes the tar and, from the position after each entry, its index: the data of an entry ends the entry, padded to 512.
    private static async Task<TarToolResult> WriteAsync(string tarPath, string? indexPath, List<TarSkippedEntry> skipped, IProgress<TarProgress>? progress,
        Func<AddMember, CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        indexPath ??= DefaultIndexPath(tarPath);
        string tarTemp = tarPath + ".partial", indexTemp = indexPath + ".partial";
        long members = 0, bytes = 0;
        try
        {
            var tarFile = new FileStream(tarTemp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20, useAsync: true);
            var indexFile = new FileStream(indexTemp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await using (tarFile.ConfigureAwait(false))
            await using (indexFile.ConfigureAwait(false))
            {
                var index = new StreamWriter(indexFile, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
                await using (index.ConfigureAwait(false))
                {
                    await index.WriteLineAsync(TarIndex.Header).ConfigureAwait(false);
                    var writer = new TarWriter(tarFile, TarEntryFormat.Pax, leaveOpen: true);
                    await using (writer.ConfigureAwait(false))
                    {
                        await produce(async (name, data, modified, ct) =>
                        {
                            long size = data.Length;
                            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, ModificationTime = modified };
                            await writer.WriteEntryAsync(entry, ct).ConfigureAwait(false);
                            long dataOffset = tarFile.Position - TarScanner.Padded(size);
                            await index.WriteLineAsync(TarIndex.Line(new TarMember(name, dataOffset, size))).ConfigureAwait(false);
                            members++;
                            bytes += size;
                            if (members % 1000 == 0)
                                progress?.Report(new TarProgress(members, bytes));
                        }, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            File.Move(tarTemp, tarPath, overwrite: true);
            File.Move(indexTemp, indexPath, overwrite: true);
            progress?.Report(new TarProgress(members, bytes));
            return new TarToolResult(members, bytes, skipped);
        }
        catch
        {
            File.Delete(tarTemp);
            File.Delete(indexTemp);
            throw;
        }
    }
}
