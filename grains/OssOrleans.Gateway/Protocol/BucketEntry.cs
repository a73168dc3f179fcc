namespace OssOrleans.Gateway.Protocol;

/// <summary>One Bucket of ListAllMyBucketsResult.</summary>
internal sealed record BucketEntry(string Name, DateTimeOffset CreationDate)
{
    /// <summary>Written as BucketRegion when set.</summary>
    public string? Region { get; init; }
}
