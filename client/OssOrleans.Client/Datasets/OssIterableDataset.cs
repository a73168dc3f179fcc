using System.Runtime.CompilerServices;

namespace OssOrleans.Client.Datasets;

/// <summary>
/// Factories of iterable-style datasets: each (rank, worker) shard streams its share of a pinned snapshot, optionally in
/// a deterministic chunk-shuffled order, with read-ahead. Sources as in <see cref="OssMapDataset"/>.
/// </summary>
public static class OssIterableDataset
{
    /// <inheritdoc cref="OssMapDataset.FromPrefixAsync"/>
    public static async Task<OssIterableDataset<DatasetItem?>> FromPrefixAsync(OssCacheClient client, string prefixUri, DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = OssMapDataset.Prepare(client, options);
        return new(await DatasetSources.PrefixAsync(client, prefixUri, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }

    /// <inheritdoc cref="OssMapDataset.FromObjectsAsync"/>
    public static async Task<OssIterableDataset<DatasetItem?>> FromObjectsAsync(OssCacheClient client, IEnumerable<string> objectUris, DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = OssMapDataset.Prepare(client, options);
        ArgumentNullException.ThrowIfNull(objectUris);
        return new(await DatasetSources.ObjectsAsync(client, objectUris, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }

    /// <inheritdoc cref="OssMapDataset.FromManifestAsync"/>
    public static async Task<OssIterableDataset<DatasetItem?>> FromManifestAsync(OssCacheClient client, string manifest, string baseUri, ManifestParser? parser = null,
        DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = OssMapDataset.Prepare(client, options);
        return new(await DatasetSources.ManifestAsync(client, manifest, baseUri, parser ?? ManifestParser.TabSeparated, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }

    /// <inheritdoc cref="OssMapDataset.FromTarAsync"/>
    public static async Task<OssIterableDataset<DatasetItem?>> FromTarAsync(OssCacheClient client, string tarUri, string? indexUri = null,
        DatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = OssMapDataset.Prepare(client, options);
        return new(await DatasetSources.TarAsync(client, tarUri, indexUri, o, cancellationToken).ConfigureAwait(false), o, static i => i);
    }
}

/// <summary>
/// An iterable-style dataset: enumerating it yields this shard's items for <see cref="DatasetOptions.Epoch"/>
/// (see <see cref="ReadEpochAsync"/> for another epoch). Across all (rank, worker) shards an epoch yields every item of
/// the snapshot exactly once.
/// </summary>
public sealed class OssIterableDataset<T> : IAsyncEnumerable<T>
{
    private readonly DatasetSnapshot _snapshot;
    private readonly DatasetOptions _options;
    private readonly Func<DatasetItem?, T> _transform;

    internal OssIterableDataset(DatasetSnapshot snapshot, DatasetOptions options, Func<DatasetItem?, T> transform)
    {
        _snapshot = snapshot;
        _options = options;
        _transform = transform;
    }

    /// <summary>Items in the whole snapshot (all shards).</summary>
    public int TotalCount => _snapshot.Count;

    public string SnapshotId => _snapshot.Info.SnapshotId;

    internal ReadAheadStats? Stats { get; set; }

    internal ItemBufferPool Buffers => _snapshot.Buffers;

    public OssIterableDataset<TResult> WithTransform<TResult>(Func<DatasetItem?, TResult> transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return new(_snapshot, _options, transform);
    }

    /// <summary>The same snapshot read as another (rank, worker) shard, as a data-loading worker would after a fork.</summary>
    public OssIterableDataset<T> ForShard(int rank, int worldSize, int workerId = 0, int workerCount = 1)
    {
        var o = _options.Clone();
        o.Rank = rank;
        o.WorldSize = worldSize;
        o.WorkerId = workerId;
        o.WorkerCount = workerCount;
        o.Validate();
        return new(_snapshot, o, _transform);
    }

    /// <summary>
    /// The snapshot indices this shard yields in <paramref name="epoch"/>, in order (deterministic in seed, epoch, rank
    /// and worker; no data is read).
    /// </summary>
    public IReadOnlyList<int> IndicesFor(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var list = new List<int>();
        foreach (var c in ChunkPlan.ForShard(_snapshot.Count, _options, varySizes: _snapshot.IsTar, epoch))
        {
            for (int i = 0; i < c.Count; i++)
                list.Add(c.ItemAt(i));
        }
        return list;
    }

    /// <summary>This shard's items for <paramref name="epoch"/>.</summary>
    public IAsyncEnumerable<T> ReadEpochAsync(int epoch, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return ReadAsync(epoch, cancellationToken);
    }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        ReadAsync(_options.Epoch, cancellationToken).GetAsyncEnumerator(cancellationToken);

    private async IAsyncEnumerable<T> ReadAsync(int epoch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A chunk is read as one unit: one range read of a tar, or one call to the run grain of its objects.
        var units = ChunkPlan.ForShard(_snapshot.Count, _options, varySizes: _snapshot.IsTar, epoch);
        await foreach (var item in ReadAhead.ReadAsync(_snapshot, units, _options, Stats, cancellationToken).ConfigureAwait(false))
            yield return _transform(item);
    }
}
