namespace OssOrleans;

/// <summary>
/// One item of a pinned dataset snapshot. For an object item <see cref="Key"/> is the object key in the snapshot's bucket
/// and <see cref="Offset"/> is 0; for a tar item <see cref="Key"/> is the member name and <see cref="Offset"/> is where the
/// member's data starts in the tar object. <see cref="Size"/> is -1 (and <see cref="ETag"/> empty) for an object that did
/// not exist when the snapshot was built: reading it gives null, as a 404 does.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.DatasetItemRecord")]
public sealed record DatasetItemRecord(
    [property: Id(0)] string Key,
    [property: Id(1)] long Size,
    [property: Id(2)] string ETag,
    [property: Id(3)] string? Label,
    [property: Id(4)] long Offset = 0);

/// <summary>
/// What every rank learns about a pinned snapshot before paging in its items. <see cref="Bucket"/> holds the items (or the
/// tar); for a tar, <see cref="TarKey"/>, <see cref="TarETag"/> and <see cref="TarSize"/> pin the tar object.
/// <see cref="ShardSize"/> is the cluster's shard size, so every rank asks for the same shards.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.DatasetSnapshotInfo")]
public sealed record DatasetSnapshotInfo(
    [property: Id(0)] string SnapshotId,
    [property: Id(1)] string Bucket,
    [property: Id(2)] int Count,
    [property: Id(3)] int PageSize,
    [property: Id(4)] int ShardSize,
    [property: Id(5)] DateTimeOffset BuiltAt,
    [property: Id(6)] string? TarKey = null,
    [property: Id(7)] string? TarETag = null,
    [property: Id(8)] long TarSize = 0)
{
    public int PageCount => Count == 0 ? 0 : (Count + PageSize - 1) / PageSize;
}

/// <summary>What <see cref="IDatasetGrain.OpenAsync"/> tells a rank to do.</summary>
[GenerateSerializer, Alias("OssOrleans.DatasetOpenState")]
public enum DatasetOpenState
{
    /// <summary>The snapshot is built: page it in.</summary>
    Ready,

    /// <summary>The caller builds the snapshot: append its pages, then complete it.</summary>
    Build,

    /// <summary>Another rank is building it: ask again shortly.</summary>
    Wait,
}

[GenerateSerializer, Immutable, Alias("OssOrleans.DatasetOpenResult")]
public sealed record DatasetOpenResult(
    [property: Id(0)] DatasetOpenState State,
    [property: Id(1)] DatasetSnapshotInfo? Snapshot,
    [property: Id(2)] int ShardSize);

/// <summary>
/// The pinned item index of one dataset source (key: <see cref="DatasetKeys"/>), built once per cluster and shared by every
/// rank and worker. The first rank to open it builds it under a lease (listing, HEADs, manifest parsing or tar index run in
/// the client, where the parser delegate lives) and appends it in pages; everyone else waits, then pages it in. Pages keep
/// every message far below Orleans' message size limit however many items there are.
/// </summary>
[Alias("OssOrleans.IDatasetGrain")]
public interface IDatasetGrain : IGrainWithStringKey
{
    /// <summary>Ready (with the snapshot), Build (the caller holds the build lease for <paramref name="leaseSeconds"/>) or Wait.</summary>
    [Alias("Open")]
    Task<DatasetOpenResult> OpenAsync(string builderId, int leaseSeconds);

    /// <summary>Appends items in index order; renews the lease. Refused unless the caller holds the lease.</summary>
    [Alias("Append")]
    Task AppendAsync(string builderId, DatasetItemRecord[] items);

    /// <summary>Seals the snapshot (items appended so far, plus the tar pin if any) and keeps it for <paramref name="keepAlive"/>.</summary>
    [Alias("Complete")]
    Task<DatasetSnapshotInfo> CompleteAsync(string builderId, string bucket, string? tarKey, string? tarETag, long tarSize, TimeSpan keepAlive);

    /// <summary>Gives the lease up after a failed build, so another rank can try.</summary>
    [Alias("Abandon")]
    Task AbandonAsync(string builderId);

    /// <summary>Items [page * PageSize, (page + 1) * PageSize) of the sealed snapshot.</summary>
    [Alias("GetPage")]
    Task<DatasetItemRecord[]> GetPageAsync(int page);
}

/// <summary>
/// Dataset grain keys: the tenant, then a hash of the source description, so equal sources of one tenant share one
/// snapshot, and a tenant can neither read nor pre-build another tenant's snapshot.
/// </summary>
public static class DatasetKeys
{
    /// <summary>The grain key of a source of <paramref name="tenant"/>, from the parts that identify it (kind, URIs, parser id, snapshot name...).</summary>
    public static string ForSource(string tenant, params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in parts)
        {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            var bytes = System.Text.Encoding.UTF8.GetBytes(part ?? "");
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            sha.AppendData(length);
            sha.AppendData(bytes);
        }
        return TenantKeys.Owned(tenant, "ds1-" + Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}

/// <summary>What a <see cref="IDatasetRunGrain"/> says about one item.</summary>
[GenerateSerializer, Alias("OssOrleans.DatasetItemStatus")]
public enum DatasetItemStatus : byte
{
    /// <summary>Loaded: fetch it from <see cref="DatasetItemLocation.Location"/>.</summary>
    Loaded,

    /// <summary>The object does not exist at the origin (a 404).</summary>
    Missing,

    /// <summary>The pinned version is gone: the object changed at the origin.</summary>
    Changed,

    /// <summary>The origin failed; <see cref="DatasetItemLocation.Error"/> says how.</summary>
    Failed,
}

[GenerateSerializer, Immutable, Alias("OssOrleans.DatasetItemLocation")]
public sealed record DatasetItemLocation(
    [property: Id(0)] DatasetItemStatus Status,
    [property: Id(1)] ShardLocation? Location,
    [property: Id(2)] string? Error = null);

/// <summary>
/// Owns a run of small dataset items (one shard each) of one snapshot, so that a sample costs no grain activation of its
/// own and a batch of samples one grain call: it loads each item once (single flight) into its silo's shard store, under
/// the same shard id the shard grains use, and says where each one is. Key: snapshot id (which starts with its tenant),
/// '/', run number. Each item is checked against the caller's grants, and its size against the origin's answer.
/// </summary>
[Alias("OssOrleans.IDatasetRunGrain")]
public interface IDatasetRunGrain : IGrainWithStringKey
{
    /// <summary>Most items one call may name: a run is about 1,000 items.</summary>
    public const int MaxItems = 1000;

    /// <summary>
    /// Loads the items (objects of <paramref name="bucket"/>, each at most <paramref name="shardSize"/> bytes, which must be the
    /// cluster's shard size, at their pinned ETags; at most <see cref="MaxItems"/>) and locates them, in order.
    /// </summary>
    [Alias("Load")]
    Task<DatasetItemLocation[]> LoadAsync(string bucket, int shardSize, DatasetItemRecord[] items);
}
