namespace OssOrleans.Gateway.Protocol;

/// <summary>A page of ListParts.</summary>
internal sealed record ListPartsResult(string Bucket, string Key, string UploadId, int PartNumberMarker, int MaxParts, bool IsTruncated,
    IReadOnlyList<PartEntry> Parts)
{
    /// <summary>Written when <see cref="IsTruncated"/>; null writes the last part's number.</summary>
    public int? NextPartNumberMarker { get; init; }

    public S3Owner? Initiator { get; init; }

    public S3Owner? Owner { get; init; }

    public string StorageClass { get; init; } = "STANDARD";

    public ChecksumAlgorithm? ChecksumAlgorithm { get; init; }
}
