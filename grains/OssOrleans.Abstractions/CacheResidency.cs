namespace OssOrleans;

/// <summary>One shard resident in a silo's shard store: which object version and byte range it holds.</summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.CachedShard")]
public sealed record CachedShard(
    [property: Id(0)] string Bucket,
    [property: Id(1)] string Key,
    [property: Id(2)] string ETag,
    [property: Id(3)] int Index,
    [property: Id(4)] int ShardSize,
    [property: Id(5)] int Bytes);

/// <summary>
/// Shards a silo holds under a prefix, at most the limit asked for; <see cref="Truncated"/> says more matched.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.CachedShardPage")]
public sealed record CachedShardPage(
    [property: Id(0)] string Silo,
    [property: Id(1)] IReadOnlyList<CachedShard> Shards,
    [property: Id(2)] bool Truncated);
