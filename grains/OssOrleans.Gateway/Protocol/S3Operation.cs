namespace OssOrleans.Gateway.Protocol;

/// <summary>The S3 operations the gateway tells apart; anything else is answered by <see cref="S3OperationClassifier"/> with an error.</summary>
internal enum S3Operation
{
    ListBuckets,

    // ---- bucket ----
    ListObjects,
    ListObjectsV2,
    HeadBucket,
    CreateBucket,
    DeleteBucket,
    GetBucketLocation,
    ListMultipartUploads,
    DeleteObjects,

    // ---- object ----
    GetObject,
    HeadObject,
    PutObject,
    CopyObject,
    DeleteObject,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
}
