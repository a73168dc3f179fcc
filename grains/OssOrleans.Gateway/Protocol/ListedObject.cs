namespace OssOrleans.Gateway.Protocol;

/// <summary>One Contents entry of a listing. <see cref="ETag"/> is quoted when written if it is not already.</summary>
internal sealed record ListedObject(string Key, DateTimeOffset LastModified, string ETag, long Size)
{
    public string StorageClass { get; init; } = "STANDARD";

    /// <summary>Written when set (ListObjectsV2 with fetch-owner=true; ListObjects v1 always has one in S3).</summary>
    public S3Owner? Owner { get; init; }

    /// <summary>The algorithm of the object's additional checksum, written as ChecksumAlgorithm when set.</summary>
    public ChecksumAlgorithm? ChecksumAlgorithm { get; init; }
}
