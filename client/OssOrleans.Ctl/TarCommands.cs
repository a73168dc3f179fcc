using OssOrleans.Client;
using OssOrleans.Client.Datasets.Tar;

namespace OssOrleans.Ctl;

/// <summary>
/// <c>tar create</c> and <c>tar index</c>. Sources and destinations are oss:// URIs (read through the cluster; written
/// with the checkpoint writer) or local paths. The index goes beside the archive as <c>&lt;archive&gt;.index</c> unless
/// given. An archive destination in the store is built in a local temporary file first, then uploaded with its index.
/// </summary>
internal static class Tar
{
    public static async Task<int> CreateAsync(CommandContext c)
    {
        var args = c.Positionals(2, 3);
        string source = args[0], destination = args[1];
        string? index = args.Count == 3 ? args[2] : null;
        bool quiet = c.Has("--quiet", "-q") || c.Json;
        var progress = new Progress<TarProgress>(p =>
        {
            if (!quiet)
                c.Err.Write($"\r{p.Members} members, {JsonOut.Bytes(p.Bytes)}   ");
        });
        bool fromStore = IsStoreUri(source);
        OssCacheClient? client = fromStore || IsStoreUri(destination) || (index is not null && IsStoreUri(index))
            ? await c.ClientAsync().ConfigureAwait(false) : null;

        return await WithLocalPairAsync(c, client, destination, index, async (tarPath, indexPath) =>
            fromStore
                ? await TarTools.CreateFromPrefixAsync(client!, ObjectUri.Parse(source).ToString(), tarPath, indexPath, progress, c.CancellationToken).ConfigureAwait(false)
                : await TarTools.CreateFromFolderAsync(source, tarPath, indexPath, progress, c.CancellationToken).ConfigureAwait(false),
            uploadTar: true, quiet).ConfigureAwait(false);
    }

    public static async Task<int> IndexAsync(CommandContext c)
    {
        var args = c.Positionals(1, 2);
        string tar = args[0];
        string? index = args.Count == 2 ? args[1] : null;
        bool quiet = c.Has("--quiet", "-q") || c.Json;
        var progress = new Progress<TarProgress>(p =>
        {
            if (!quiet)
                c.Err.Write($"\r{p.Members} members, {JsonOut.Bytes(p.Bytes)}   ");
        });
        bool inStore = IsStoreUri(tar);
        OssCacheClient? client = inStore || (index is not null && IsStoreUri(index)) ? await c.ClientAsync().ConfigureAwait(false) : null;
        return await WithLocalPairAsync(c, client, tar, index, async (_, indexPath) =>
            inStore
                ? await TarTools.CreateIndexAsync(client!, ObjectUri.Parse(tar).RequireObject().ToString(), indexPath, progress, c.CancellationToken).ConfigureAwait(false)
                : await TarTools.CreateIndexAsync(tar, indexPath, progress, c.CancellationToken).ConfigureAwait(false),
            uploadTar: false, quiet).ConfigureAwait(false);
    }

    private static bool IsStoreUri(string s) => s.Contains("://", StringComparison.Ordinal);

    /// <summary>
    /// Runs <paramref name="build"/> with local paths for the archive and its index; store destinations get temporary
    /// local files that are uploaded after a successful build (the index last, so a reader never finds an index without
    /// its archive) and deleted in every case.
    /// </summary>
    private static async Task<int> WithLocalPairAsync(CommandContext c, OssCacheClient? client, string tar, string? index,
        Func<string, string, Task<TarToolResult>> build, bool uploadTar, bool quiet)
    {
        index ??= IsStoreUri(tar) ? ObjectUri.Parse(tar).RequireObject() + ".index" : TarTools.DefaultIndexPath(tar);
        string scratch = Directory.CreateTempSubdirectory("ossctl-tar-").FullName;
        try
        {
            string localTar = IsStoreUri(tar) ? Path.Combine(scratch, "archive.tar") : Path.GetFullPath(tar);
            string localIndex = IsStoreUri(index) ? Path.Combine(scratch, "archive.tar.index") : Path.GetFullPath(index);
            var result = await build(localTar, localIndex).ConfigureAwait(false);
            if (uploadTar && IsStoreUri(tar))
                await UploadAsync(client!, localTar, tar, c.CancellationToken).ConfigureAwait(false);
            if (IsStoreUri(index))
                await UploadAsync(client!, localIndex, index, c.CancellationToken).ConfigureAwait(false);
            if (!quiet)
                await c.Err.WriteLineAsync().ConfigureAwait(false);
            foreach (var s in result.Skipped)
                await c.Err.WriteLineAsync($"ossctl: skipped '{s.Name}': {s.Reason}").ConfigureAwait(false);
            if (c.Json)
                await JsonOut.LineAsync(c, new { archive = tar, index, members = result.Members, bytes = result.Bytes, skipped = result.Skipped.Select(s => new { name = s.Name, reason = s.Reason }) }).ConfigureAwait(false);
            else
                await c.Out.WriteLineAsync($"{tar}: {result.Members} members, {JsonOut.Bytes(result.Bytes)}; index {index}" + (result.Skipped.Count > 0 ? $"; {result.Skipped.Count} skipped" : "")).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task UploadAsync(OssCacheClient client, string path, string uri, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var upload = await client.OpenWriteAsync(ObjectUri.Parse(uri).RequireObject().ToString(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await file.CopyToAsync(upload, 1 << 20, cancellationToken).ConfigureAwait(false);
        await upload.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }
}
