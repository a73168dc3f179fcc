namespace OssOrleans.Gateway.Protocol;

/// <summary>One Upload of ListMultipartUploadsResult.</summary>
internal sealed record UploadEntry(string Key, string UploadId, DateTimeOffset Initiated)
{
    public S3Owner? Initiator { get; init; }

    public S3Owner? Owner { get; init; }

    public string StorageClass { get; init; } = "STANDARD";
}
