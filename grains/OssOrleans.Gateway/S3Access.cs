using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Security;

namespace OssOrleans.Gateway;

/// <summary>
/// What a tenant needs for each S3 operation, checked against the exact bucket, key or prefix the request names before
/// the gateway touches a grain or the origin: a refused request costs nothing. The silo's own grain calls are trusted as a
/// silo's, so this is the only check an S3 request gets. Operations that act on several keys (DeleteObjects) or return
/// several (listings, ListBuckets) are also filtered key by key by their handlers.
/// </summary>
internal static class S3Access
{
    /// <summary>Null when allowed; else the refusal. <paramref name="copySource"/> is the parsed copy source of a copy.</summary>
    public static S3Error? Check(Tenant tenant, S3Operation operation, S3Target target, S3RequestHead head, out CopySource? copySource)
    {
        copySource = null;
        string bucket = target.Bucket ?? "";
        string key = target.Key ?? "";
        bool allowed = operation switch
        {
            S3Operation.ListBuckets => true,
            S3Operation.HeadBucket or S3Operation.GetBucketLocation => tenant.Grants.Any(g => g.CoversBucket(bucket)),
            S3Operation.ListObjects or S3Operation.ListObjectsV2 => tenant.VisibilityOf(bucket, head.Query["prefix"] ?? "") != ListVisibility.None,
            // Upload listings are not filtered key by key (their markers would name hidden keys): the whole prefix must be visible.
            S3Operation.ListMultipartUploads => tenant.VisibilityOf(bucket, head.Query["prefix"] ?? "") == ListVisibility.Full,
            S3Operation.CreateBucket or S3Operation.DeleteBucket => tenant.Allows(AccessVerbs.Admin, bucket, ""),
            S3Operation.DeleteObjects => tenant.Grants.Any(g => (g.Verbs & AccessVerbs.Write) != 0 && g.CoversBucket(bucket)),
            S3Operation.GetObject or S3Operation.HeadObject => tenant.Allows(AccessVerbs.Read, bucket, key),
            S3Operation.PutObject or S3Operation.CreateMultipartUpload or S3Operation.UploadPart or S3Operation.CompleteMultipartUpload
                or S3Operation.AbortMultipartUpload or S3Operation.ListParts or S3Operation.DeleteObject => tenant.Allows(AccessVerbs.Write, bucket, key),
            S3Operation.CopyObject or S3Operation.UploadPartCopy => tenant.Allows(AccessVerbs.Write, bucket, key),
            _ => false,
        };
        if (!allowed)
            return S3Errors.AccessDenied();
        if (operation is S3Operation.CopyObject or S3Operation.UploadPartCopy)
        {
            if (!CopySource.TryParse(head.Headers["x-amz-copy-source"].ToString(), out copySource, out var error))
                return error;
            if (!tenant.Allows(AccessVerbs.Read, copySource.Bucket, copySource.Key))
                return S3Errors.AccessDenied();
        }
        return null;
    }

    /// <summary>The verb an operation is audited as.</summary>
    public static string Verb(S3Operation operation) => operation switch
    {
        S3Operation.GetObject or S3Operation.HeadObject or S3Operation.HeadBucket or S3Operation.GetBucketLocation => "read",
        S3Operation.ListBuckets or S3Operation.ListObjects or S3Operation.ListObjectsV2 or S3Operation.ListMultipartUploads or S3Operation.ListParts => "list",
        S3Operation.CreateBucket or S3Operation.DeleteBucket => "admin",
        _ => "write",
    };
}
