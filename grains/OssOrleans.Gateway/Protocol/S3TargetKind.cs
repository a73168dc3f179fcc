namespace OssOrleans.Gateway.Protocol;

internal enum S3TargetKind
{
    /// <summary>No bucket: ListBuckets.</summary>
    Service,

    Bucket,

    Object,
}
