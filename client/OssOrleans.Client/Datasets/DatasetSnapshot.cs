namespace OssOrleans.Client.Datasets;

/// <summary>What a rank builds when it holds the build lease: the items in index order, and the tar they live in, if any.</summary>
internal sealed record BuiltIndex(string Bucket, IAsyncEnumerable<DatasetItemRecord> Items, ObjectInfo? Tar = null);

/// <summary>
/// A pinned snapshot paged in from its <see cref="IDatasetGrain"/>, and the reads of its items through the cluster.
/// Items are read at exactly the pinned version: an object that changed since fails with its key, never mixed.
/// </summary>
internal sealed class DatasetSnapshot
{
    private readonly OssCacheClient _client;
    private readonly DatasetItemRecord[] _items;
    private readonly ObjectInfo? _tar;
    private readonly ItemBufferPool _buffers;

    private DatasetSnapshot(OssCacheClient client, DatasetSnapshotInfo info, DatasetItemRecord[] items, long bufferPoolBytes)
    {
        _client = client;
        Info = info;
        _items = items;
        _buffers = new ItemBufferPool(bufferPoolBytes);
        if (info.TarKey is not null)
            _tar = new ObjectInfo(new ObjectUri(info.Bucket, info.TarKey), info.TarSize, info.TarETag!, default, null, info.ShardSize);
    }

    public DatasetSnapshotInfo Info { get; }

    public int Count => _items.Length;

    public bool IsTar => _tar is not null;

    public DatasetItemRecord this[int index] => _items[index];

    /// <summary>Where the items' buffers come from and go back to when items are disposed (tests).</summary>
    internal ItemBufferPool Buffers => _buffers;

    /// <summary>Opens the snapshot of <paramref name="key"/>: builds it when this rank gets the lease, else waits for it.</summary>
    public static async Task<DatasetSnapshot> OpenAsync(OssCacheClient client, string key, Func<CancellationToken, Task<BuiltIndex>> build,
        DatasetOptions options, CancellationToken cancellationToken)
    {
        var grain = client.Cluster.GetGrain<IDatasetGrain>(key);
        string builderId = Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow + options.BuildTimeout;
        DatasetSnapshotInfo info;
        while (true)
        {
            var open = await grain.OpenAsync(builderId, leaseSeconds: 120).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (open.State == DatasetOpenState.Ready)
            {
                info = open.Snapshot!;
                break;
            }
            if (open.State == DatasetOpenState.Build)
            {
                info = await BuildAsync(grain, builderId, open.ShardSize, build, options, cancellationToken).ConfigureAwait(false);
                break;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"dataset snapshot {key}: another rank has been building it for longer than {options.BuildTimeout}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        var items = new DatasetItemRecord[info.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, info.PageCount),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (page, ct) =>
            {
                var records = await grain.GetPageAsync(page).WaitAsync(ct).ConfigureAwait(false);
                records.CopyTo(items, page * info.PageSize);
            }).ConfigureAwait(false);
        return new DatasetSnapshot(client, info, items, options.ItemBufferPoolBytes);
    }

    private static async Task<DatasetSnapshotInfo> BuildAsync(IDatasetGrain grain, string builderId, int shardSize,
        Func<CancellationToken, Task<BuiltIndex>> build, DatasetOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var index = await build(cancellationToken).ConfigureAwait(false);
            var page = new List<DatasetItemRecord>(DatasetPageSize);
            await foreach (var item in index.Items.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                page.Add(item);
                if (page.Count == DatasetPageSize)
                {
                    await grain.AppendAsync(builderId, [.. page]).WaitAsync(cancellationToken).ConfigureAwait(false);
                    page.Clear();
                }
            }
            if (page.Count > 0)
                await grain.AppendAsync(builderId, [.. page]).WaitAsync(cancellationToken).ConfigureAwait(false);
            var tar = index.Tar;
            return await grain.CompleteAsync(builderId, index.Bucket, tar?.Uri.Key, tar?.ETag, tar?.Size ?? 0, options.SnapshotKeepAlive)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await grain.AbandonAsync(builderId).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The lease expires by itself; the build's own error is the one to report.
            }
            throw;
        }
    }

    // Matches the grain's page size, so every append is one page.
    private const int DatasetPageSize = 10_000;

    /// <summary>The bytes of one item, or null when its object does not exist (any more).</summary>
    public async Task<DatasetItem?> ReadAsync(int index, CancellationToken cancellationToken)
    {
        var results = await ReadRunAsync(index, 1, 1, cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>
    /// Items [first, first + count): for a tar one range read of the members' span; otherwise the objects in parallel.
    /// Missing objects are null; any other failure raises <see cref="DatasetItemException"/> with the key.
    /// </summary>
    public async Task<DatasetItem?[]> ReadRunAsync(int first, int count, int concurrency, CancellationToken cancellationToken, bool runGrains = true)
    {
        var results = new DatasetItem?[count];
        if (_tar is ObjectInfo tar)
        {
            var targets = new RangeReader.Target[count];
            var buffers = new byte[count][];
            bool sorted = true;
            for (int i = 0; i < count; i++)
            {
                var r = _items[first + i];
                int size = checked((int)r.Size);
                buffers[i] = _buffers.Rent(size);
                targets[i] = new RangeReader.Target(r.Offset, buffers[i].AsMemory(0, size));
                sorted &= i == 0 || r.Offset >= targets[i - 1].Start + targets[i - 1].Buffer.Length;
            }
            try
            {
                if (sorted)
                    await RangeReader.FillAsync(_client.Shards, tar, targets, concurrency, cancellationToken).ConfigureAwait(false);
                else
                {
                    // An index out of archive order (hand-written): members are read one by one.
                    foreach (var t in targets)
                        await RangeReader.FillAsync(_client.Shards, tar, [t], concurrency, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw Failure(_items[first].Key + " (in " + tar.Uri + ")", tar.ETag, ex);
            }
            for (int i = 0; i < count; i++)
                results[i] = new DatasetItem(first + i, _items[first + i].Key, tar.ETag, _items[first + i].Label, buffers[i], targets[i].Buffer.Length, _buffers);
            return results;
        }

        return await ReadIndicesAsync([.. Enumerable.Range(first, count)], concurrency, cancellationToken, runGrains).ConfigureAwait(false);
    }

    /// <summary>
    /// Object items at any indices (not a tar), in the order given: small objects through their run grains, one call per
    /// run grain in the batch; larger ones through the shard path. Missing objects are null.
    /// </summary>
    public async Task<DatasetItem?[]> ReadIndicesAsync(IReadOnlyList<int> indices, int concurrency, CancellationToken cancellationToken, bool runGrains = true)
    {
        var results = new DatasetItem?[indices.Count];
        var groups = new Dictionary<int, List<int>>();
        for (int p = 0; p < indices.Count; p++)
        {
            int run = indices[p] / RunSize;
            if (!groups.TryGetValue(run, out var positions))
                groups[run] = positions = [];
            positions.Add(p);
        }
        await Parallel.ForEachAsync(groups.Values, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (g, ct) => await ReadGroupAsync(indices, g, results, concurrency, runGrains, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return results;
    }

    // Items per dataset run grain: activations stay proportional to bytes (about 1,000 samples), not to samples.
    internal const int RunSize = 1000;

    private bool IsSmall(DatasetItemRecord r) => r.Size > 0 && r.Size <= Info.ShardSize;

    // Positions (into indices and results) whose items share one run grain.
    private async Task ReadGroupAsync(IReadOnlyList<int> indices, List<int> positions, DatasetItem?[] results, int concurrency, bool runGrains, CancellationToken cancellationToken)
    {
        var small = new List<int>(positions.Count);
        var other = new List<int>();
        foreach (int p in positions)
            (runGrains && IsSmall(_items[indices[p]]) ? small : other).Add(p);

        DatasetItemLocation[]? locations = null;
        if (small.Count > 0)
        {
            try
            {
                locations = await RunGrain(indices[small[0]]).LoadAsync(Info.Bucket, Info.ShardSize, [.. small.Select(p => _items[indices[p]])])
                    .WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ShardFetcher.IsClusterFaultException(ex) && !cancellationToken.IsCancellationRequested)
            {
                // The run grain's silo was lost or busy: the shard path retries on its own.
                other.AddRange(small);
                small.Clear();
            }
        }

        // Loaded samples come in one data-plane request per silo (and at most BatchHandles samples); the rest, and any
        // batch that lost a sample to eviction meanwhile (or failed its check), through the shard path.
        var bySilo = new Dictionary<string, List<(int Pos, ShardLocation Location)>>(StringComparer.Ordinal);
        for (int k = 0; k < small.Count; k++)
        {
            int pos = small[k], i = indices[pos];
            var loc = locations![k];
            string uri = $"oss://{Info.Bucket}/{_items[i].Key}";
            switch (loc.Status)
            {
                case DatasetItemStatus.Missing:
                    results[pos] = null;
                    continue;
                case DatasetItemStatus.Changed:
                    throw new DatasetItemException(uri, $"the object changed at the origin since the snapshot pinned version {_items[i].ETag}");
                case DatasetItemStatus.Failed:
                    throw new DatasetItemException(uri, loc.Error ?? "the origin failed");
            }
            if (loc.Location!.Length != _items[i].Size)
            {
                other.Add(pos);
                continue;
            }
            if (!bySilo.TryGetValue(loc.Location.Silo, out var list))
                bySilo[loc.Location.Silo] = list = [];
            list.Add((pos, loc.Location));
        }

        var batches = new List<List<(int Pos, ShardLocation Location)>>();
        foreach (var list in bySilo.Values)
        {
            foreach (var part in list.Chunk(BatchHandles))
                batches.Add([.. part]);
        }
        var fallback = new System.Collections.Concurrent.ConcurrentBag<int>(other);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (b, ct) =>
            {
                var buffers = b.Select(x => _buffers.Rent((int)_items[indices[x.Pos]].Size)).ToArray();
                var targets = b.Select((x, k) => buffers[k].AsMemory(0, (int)_items[indices[x.Pos]].Size)).ToArray();
                bool ok;
                try
                {
                    ok = await _client.Shards.GetManyAsync([.. b.Select(x => x.Location)], targets, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ShardFetcher.IsClusterFaultException(ex) && !ct.IsCancellationRequested)
                {
                    ok = false;
                }
                if (!ok)
                {
                    foreach (var x in b)
                        fallback.Add(x.Pos);
                    foreach (var buffer in buffers)
                        _buffers.Return(buffer);
                    return;
                }
                for (int k = 0; k < targets.Length; k++)
                {
                    int index = indices[b[k].Pos];
                    var r = _items[index];
                    results[b[k].Pos] = new DatasetItem(index, $"oss://{Info.Bucket}/{r.Key}", r.ETag, r.Label, buffers[k], targets[k].Length, _buffers);
                }
            }).ConfigureAwait(false);
        await Parallel.ForEachAsync(fallback, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (p, ct) => results[p] = await ReadObjectAsync(indices[p], ct).ConfigureAwait(false)).ConfigureAwait(false);
    }

    // Samples per data-plane batch request (the server takes up to 256).
    private const int BatchHandles = 128;

    private IDatasetRunGrain RunGrain(int index) =>
        _client.Cluster.GetGrain<IDatasetRunGrain>(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Info.SnapshotId}/{index / RunSize}"));

    private async Task<DatasetItem?> ReadObjectAsync(int index, CancellationToken cancellationToken)
    {
        var r = _items[index];
        if (r.Size < 0)
            return null; // Missing when the snapshot was built.
        var info = ObjectOf(r);
        if (r.Size == 0)
            return new DatasetItem(index, info.Uri.ToString(), r.ETag, r.Label, []);
        int size = checked((int)r.Size);
        var data = _buffers.Rent(size);
        try
        {
            await RangeReader.FillAsync(_client.Shards, info, [new RangeReader.Target(0, data.AsMemory(0, size))], 4, cancellationToken).ConfigureAwait(false);
        }
        catch (OssObjectNotFoundException)
        {
            _buffers.Return(data);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Failure(info.Uri.ToString(), r.ETag, ex);
        }
        return new DatasetItem(index, info.Uri.ToString(), r.ETag, r.Label, data, size, _buffers);
    }

    /// <summary>
    /// Asks the cluster to load items [first, first + count) into its cache without sending them here; failures are left
    /// for the read that follows to report.
    /// </summary>
    public Task PrefetchAsync(int first, int count, bool runGrains = true)
    {
        if (count <= 0)
            return Task.CompletedTask;
        if (_tar is ObjectInfo tar)
        {
            long start = _items[first].Offset;
            long end = _items[first + count - 1].Offset + _items[first + count - 1].Size;
            if (end <= start)
                return Task.CompletedTask;
            return _client.Cluster.GetGrain<IObjectGrain>(tar.Uri.ToGrainKey()).PrefetchAsync(tar.ETag, start, end - start);
        }
        var tasks = new List<Task>();
        for (int from = first; from < first + count;)
        {
            int to = Math.Min(first + count, (from / RunSize + 1) * RunSize);
            var small = Enumerable.Range(from, to - from).Select(i => _items[i]).Where(r => runGrains && IsSmall(r)).ToArray();
            if (small.Length > 0)
                tasks.Add(RunGrain(from).LoadAsync(Info.Bucket, Info.ShardSize, small));
            from = to;
        }
        for (int i = first; i < first + count; i++)
        {
            var r = _items[i];
            if (r.Size <= 0 || (runGrains && IsSmall(r)))
                continue;
            var info = ObjectOf(r);
            for (int s = 0; s < info.ShardCount; s++)
                tasks.Add(_client.Cluster.GetGrain<IShardGrain>(info.Shard(s).ToGrainKey()).EnsureLoadedAsync(info.Size));
        }
        return Task.WhenAll(tasks);
    }

    /// <summary>Bytes of items [first, first + count).</summary>
    public long BytesOf(int first, int count)
    {
        long total = 0;
        for (int i = first; i < first + count; i++)
            total += Math.Max(0, _items[i].Size);
        return total;
    }

    private ObjectInfo ObjectOf(DatasetItemRecord r) => new(new ObjectUri(Info.Bucket, r.Key), r.Size, r.ETag, default, null, Info.ShardSize);

    private static DatasetItemException Failure(string key, string etag, Exception ex) => ex switch
    {
        ObjectChangedException => new DatasetItemException(key, $"the object changed at the origin since the snapshot pinned version {etag}", ex),
        OssObjectNotFoundException => new DatasetItemException(key, "the tar object does not exist at the origin", ex),
        _ => new DatasetItemException(key, $"{ex.GetType().Name}: {ex.Message}", ex),
    };
}
