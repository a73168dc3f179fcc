namespace OssOrleans.Client.Datasets;

/// <summary>
/// Factories of map-style datasets (random access by index) over a pinned snapshot shared by every rank. Each returns a
/// dataset of <see cref="DatasetItem"/>s (null for an object that does not exist); give it a transform with
/// <see cref="OssMapDataset{T}.WithTransform{TResult}"/>.
/// </summary>
public static class OssMapDataset
{
    /// <summary>Every object under <paramref name="prefixUri"/> (oss://bucket/prefix), in key order.</summary>
    public static async Task<OssMapDataset<DatasetItem?>> FromPrefixAsync(OssCacheClient client, string prefixUri, DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = Prepare(client, options);
        return new(await DatasetSources.PrefixAsync(client, prefixUri, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }

    /// <summary>The given objects (all in one bucket), in the given order.</summary>
    public static async Task<OssMapDataset<DatasetItem?>> FromObjectsAsync(OssCacheClient client, IEnumerable<string> objectUris, DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = Prepare(client, options);
        ArgumentNullException.ThrowIfNull(objectUris);
        return new(await DatasetSources.ObjectsAsync(client, objectUris, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }

    /// <summary>
    /// The objects a manifest lists (<paramref name="manifest"/>: a local path or an oss:// URI), keys relative to
    /// <paramref name="baseUri"/> unless a line holds a full URI; <paramref name="parser"/> defaults to
    /// <see cref="ManifestParser.TabSeparated"/>. Labels reach <see cref="DatasetItem.Label"/>.
    /// </summary>
    public static async Task<OssMapDataset<DatasetItem?>> FromManifestAsync(OssCacheClient client, string manifest, string baseUri, ManifestParser? parser = null,
        DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = Prepare(client, options);
        return new(await DatasetSources.ManifestAsync(client, manifest, baseUri, parser ?? ManifestParser.TabSeparated, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }

    /// <summary>
    /// The regular members of a tar object, in archive order, from its index (<paramref name="indexUri"/>: local path or
    /// oss:// URI, format in <see cref="Tar.TarIndex"/>), or by scanning the tar's headers through the cluster when null.
    /// Contiguous members are read with one range read of the tar.
    /// </summary>
    public static async Task<OssMapDataset<DatasetItem?>> FromTarAsync(OssCacheClient client, string tarUri, string? indexUri = null,
        DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = Prepare(client, options);
        return new(await DatasetSources.TarAsync(client, tarUri, indexUri, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }

    internal static DatasetOptions Prepare(OssCacheClient client, DatasetOptions? options)
    {
        ArgumentNullException.ThrowIfNull(client);
        var o = (options ?? new DatasetOptions()).Clone();
        o.Validate();
        return o;
    }
}

/// <summary>A map-style dataset: <see cref="Count"/> items by index, each passed through the transform.</summary>
public sealed class OssMapDataset<T>
{
    private readonly DatasetSnapshot _snapshot;
    private readonly DatasetOptions _options;
    private readonly Func<DatasetItem?, T> _transform;

    internal OssMapDataset(DatasetSnapshot snapshot, DatasetOptions options, Func<DatasetItem?, T> transform)
    {
        _snapshot = snapshot;
        _options = options;
        _transform = transform;
    }

    public int Count => _snapshot.Count;

    /// <summary>The pinned snapshot's id (equal on every rank that shares it).</summary>
    public string SnapshotId => _snapshot.Info.SnapshotId;

    internal DatasetSnapshot Snapshot => _snapshot;

    internal ReadAheadStats? Stats { get; set; }

    /// <summary>The key (object key, or member name) and pinned size and ETag of an item, without reading it. Size is -1 for a missing object.</summary>
    public (string Key, long Size, string ETag, string? Label) Describe(int index)
    {
        var r = _snapshot[CheckIndex(index)];
        return (r.Key, r.Size, _snapshot.IsTar ? _snapshot.Info.TarETag! : r.ETag, r.Label);
    }

    /// <summary>The same snapshot with another transform (item, or null for a missing object, to <typeparamref name="TResult"/>).</summary>
    public OssMapDataset<TResult> WithTransform<TResult>(Func<DatasetItem?, TResult> transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return new(_snapshot, _options, transform);
    }

    /// <summary>Item <paramref name="index"/>, read synchronously (blocks the calling thread; prefer <see cref="GetAsync"/>).</summary>
    public T this[int index] => GetAsync(index).GetAwaiter().GetResult();

    public async Task<T> GetAsync(int index, CancellationToken cancellationToken = default)
    {
        var item = await _snapshot.ReadAsync(CheckIndex(index), cancellationToken).ConfigureAwait(false);
        return _transform(item);
    }

    /// <summary>
    /// A batch, in the order asked. For a tar, runs of contiguous indices are each one range read; objects are read in
    /// parallel (<see cref="DatasetOptions.BatchConcurrency"/>).
    /// </summary>
    public async Task<IReadOnlyList<T>> GetItemsAsync(IReadOnlyList<int> indices, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indices);
        foreach (int i in indices)
            CheckIndex(i);
        var results = new T[indices.Count];
        if (!_snapshot.IsTar)
        {
            // Objects: one call per run grain for the whole batch, whatever the order.
            var items = await _snapshot.ReadIndicesAsync(indices, _options.BatchConcurrency, cancellationToken, _options.UseRunGrains).ConfigureAwait(false);
            for (int k = 0; k < items.Length; k++)
                results[k] = _transform(items[k]);
            return results;
        }
        var runs = Runs(indices, int.MaxValue);
        await Parallel.ForEachAsync(runs, new ParallelOptions { MaxDegreeOfParallelism = _options.BatchConcurrency, CancellationToken = cancellationToken },
            async (run, ct) =>
            {
                var items = await _snapshot.ReadRunAsync(indices[run.From], run.Length, _options.BatchConcurrency, ct).ConfigureAwait(false);
                for (int k = 0; k < run.Length; k++)
                    results[run.From + k] = _transform(items[k]);
            }).ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// Reads the given indices in order (all of them, in index order, when null) with read-ahead: the next items are
    /// fetched while the consumer works on the current one, within the options' window.
    /// </summary>
    public async IAsyncEnumerable<T> EnumerateAsync(IEnumerable<int>? indices = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var order = (indices ?? Enumerable.Range(0, Count)).ToList();
        foreach (int i in order)
            CheckIndex(i);
        var units = new List<Chunk>();
        foreach (var run in Runs(order, _options.ChunkSize))
            units.Add(new Chunk(order[run.From], run.Length, null));
        await foreach (var item in ReadAhead.ReadAsync(_snapshot, units, _options, Stats, cancellationToken).ConfigureAwait(false))
            yield return _transform(item);
    }

    // Positions [From, From + Length) of the list hold consecutive indices (i, i + 1, ...), at most maxRun long.
    private static List<(int From, int Length)> Runs(IReadOnlyList<int> indices, int maxRun)
    {
        var runs = new List<(int, int)>();
        for (int p = 0; p < indices.Count;)
        {
            int q = p + 1;
            while (q < indices.Count && q - p < maxRun && indices[q] == indices[q - 1] + 1)
                q++;
            runs.Add((p, q - p));
            p = q;
        }
        return runs;
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)_snapshot.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is outside the dataset's {_snapshot.Count} items");
        return index;
    }
}
