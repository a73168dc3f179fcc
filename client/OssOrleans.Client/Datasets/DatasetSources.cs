using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using OssOrleans.Client.Datasets.Tar;

namespace OssOrleans.Client.Datasets;

/// <summary>The four dataset sources: each gives the snapshot key and how to build the index when this rank must.</summary>
internal static class DatasetSources
{
    public static Task<DatasetSnapshot> PrefixAsync(OssCacheClient client, string prefixUri, DatasetOptions options, CancellationToken cancellationToken)
    {
        var prefix = ObjectUri.Parse(prefixUri);
        string key = DatasetKeys.ForSource(client.Tenant, "prefix", prefix.ToString(), options.SnapshotName ?? "");
        return DatasetSnapshot.OpenAsync(client, key, _ => Task.FromResult(new BuiltIndex(prefix.Bucket, ListPrefixAsync(client, prefix, cancellationToken))), options, cancellationToken);
    }

    private static async IAsyncEnumerable<DatasetItemRecord> ListPrefixAsync(OssCacheClient client, ObjectUri prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Sorted, so the index order is the key order whichever rank builds it.
        await foreach (var e in client.ListAsync(prefix, new ListOptions { Sorted = true }, cancellationToken).ConfigureAwait(false))
        {
            if (e.IsPrefix || e.Key.EndsWith('/'))
                continue; // Folder markers are not samples.
            yield return new DatasetItemRecord(e.Key, e.Size, e.ETag, null);
        }
    }

    public static Task<DatasetSnapshot> ObjectsAsync(OssCacheClient client, IEnumerable<string> uris, DatasetOptions options, CancellationToken cancellationToken)
    {
        var parsed = uris.Select(u => ObjectUri.Parse(u).RequireObject()).ToArray();
        if (parsed.Length == 0)
            throw new ArgumentException("a dataset needs at least one object URI", nameof(uris));
        string bucket = parsed[0].Bucket;
        if (parsed.Any(u => u.Bucket != bucket))
            throw new ArgumentException("all objects of a dataset must be in one bucket", nameof(uris));
        string key = DatasetKeys.ForSource(client.Tenant, "objects", bucket, HashLines(parsed.Select(u => u.Key)), options.SnapshotName ?? "");
        return DatasetSnapshot.OpenAsync(client, key,
            ct => Task.FromResult(new BuiltIndex(bucket, StatAllAsync(client, parsed.Select(u => (u, (string?)null)).ToList(), options, ct))),
            options, cancellationToken);
    }

    public static async Task<DatasetSnapshot> ManifestAsync(OssCacheClient client, string manifest, string baseUri, ManifestParser parser, DatasetOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parser);
        var root = ObjectUri.Parse(baseUri);
        byte[] content = await ReadSmallAsync(client, manifest, cancellationToken).ConfigureAwait(false);
        var entries = new List<(ObjectUri, string?)>();
        using (var reader = new StreamReader(new MemoryStream(content), new UTF8Encoding(false, true)))
        {
            string? line;
            int number = 0;
            while ((line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                number++;
                ManifestEntry? entry;
                try
                {
                    entry = parser.Parse(line);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new FormatException($"manifest {manifest} line {number}: the parser failed: {ex.Message}", ex);
                }
                if (entry is not ManifestEntry e)
                    continue;
                var uri = e.Key.Contains("://", StringComparison.Ordinal) ? ObjectUri.Parse(e.Key) : new ObjectUri(root.Bucket, root.Key + e.Key);
                if (uri.Bucket != root.Bucket)
                    throw new FormatException($"manifest {manifest} line {number}: {uri} is not in the base bucket {root.Bucket}");
                entries.Add((uri.RequireObject(), e.Label));
            }
        }
        // The manifest's content (not its path) identifies it: ranks on different machines may have their own copy.
        string key = DatasetKeys.ForSource(client.Tenant, "manifest", root.ToString(), Convert.ToHexStringLower(SHA256.HashData(content)), parser.Id, options.SnapshotName ?? "");
        return await DatasetSnapshot.OpenAsync(client, key,
            ct => Task.FromResult(new BuiltIndex(root.Bucket, StatAllAsync(client, entries, options, ct))), options, cancellationToken).ConfigureAwait(false);
    }

    public static Task<DatasetSnapshot> TarAsync(OssCacheClient client, string tarUri, string? indexUri, DatasetOptions options, CancellationToken cancellationToken)
    {
        var tar = ObjectUri.Parse(tarUri).RequireObject();
        string key = DatasetKeys.ForSource(client.Tenant, "tar", tar.ToString(), indexUri ?? "(scan)", options.SnapshotName ?? "");
        return DatasetSnapshot.OpenAsync(client, key, async ct =>
        {
            var info = await client.StatAsync(tar, ct).ConfigureAwait(false);
            IAsyncEnumerable<TarMember> members;
            if (indexUri is null)
            {
                var stream = new ShardedReadStream(client.Shards, info, client.Options.ReadAheadShards);
                members = ScanAndDisposeAsync(stream, ct);
            }
            else
            {
                byte[] index = await ReadSmallAsync(client, indexUri, ct).ConfigureAwait(false);
                members = TarIndex.ReadAsync(new MemoryStream(index), info.Size, ct);
            }
            return new BuiltIndex(tar.Bucket, ToRecords(members, ct), info);
        }, options, cancellationToken);
    }

    private static async IAsyncEnumerable<TarMember> ScanAndDisposeAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using (stream.ConfigureAwait(false))
        {
            await foreach (var m in TarScanner.ScanAsync(stream, null, cancellationToken).ConfigureAwait(false))
                yield return m;
        }
    }

    private static async IAsyncEnumerable<DatasetItemRecord> ToRecords(IAsyncEnumerable<TarMember> members, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var m in members.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (m.Size > int.MaxValue)
                throw new TarFormatException($"tar member '{m.Name}' has {m.Size} bytes; dataset samples are limited to 2 GiB");
            yield return new DatasetItemRecord(m.Name, m.Size, "", null, m.DataOffset);
        }
    }

    // HEADs through the cluster (ObjectGrain metadata), in order, with a bounded number in flight. A missing object is
    // pinned as missing (size -1), so reading it gives null.
    private static async IAsyncEnumerable<DatasetItemRecord> StatAllAsync(OssCacheClient client, IReadOnlyList<(ObjectUri Uri, string? Label)> entries,
        DatasetOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int window = options.StatConcurrency;
        var pending = new Queue<Task<DatasetItemRecord>>(window);
        for (int i = 0; i < entries.Count || pending.Count > 0;)
        {
            while (i < entries.Count && pending.Count < window)
            {
                var (uri, label) = entries[i++];
                pending.Enqueue(StatOneAsync(client, uri, label, cancellationToken));
            }
            yield return await pending.Dequeue().ConfigureAwait(false);
        }
    }

    private static async Task<DatasetItemRecord> StatOneAsync(OssCacheClient client, ObjectUri uri, string? label, CancellationToken cancellationToken)
    {
        try
        {
            var info = await client.StatAsync(uri, cancellationToken).ConfigureAwait(false);
            if (info.Size > int.MaxValue)
                throw new ArgumentException($"{uri} has {info.Size} bytes; dataset samples are limited to 2 GiB");
            return new DatasetItemRecord(uri.Key, info.Size, info.ETag, label);
        }
        catch (OssObjectNotFoundException)
        {
            return new DatasetItemRecord(uri.Key, -1, "", label);
        }
    }

    /// <summary>A manifest or index: an oss:// object read through the cluster, or a local file.</summary>
    internal static async Task<byte[]> ReadSmallAsync(OssCacheClient client, string location, CancellationToken cancellationToken)
    {
        const long Limit = 1L << 30;
        if (!location.Contains("://", StringComparison.Ordinal))
            return await File.ReadAllBytesAsync(location, cancellationToken).ConfigureAwait(false);
        var info = await client.StatAsync(location, cancellationToken).ConfigureAwait(false);
        if (info.Size > Limit)
            throw new ArgumentException($"{location} has {info.Size} bytes; manifests and indexes are limited to 1 GiB");
        var data = GC.AllocateUninitializedArray<byte>((int)info.Size);
        await RangeReader.FillAsync(client.Shards, info, [new RangeReader.Target(0, data)], client.Options.ReadAheadShards, cancellationToken).ConfigureAwait(false);
        return data;
    }

    private static string HashLines(IEnumerable<string> lines)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var l in lines)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(l));
            sha.AppendData("\n"u8);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
