using System.Diagnostics.CodeAnalysis;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Names the operation of a request from its method, its target (service, bucket, object), its query and the
/// <c>x-amz-copy-source</c> header. Requests for what the gateway does not serve get an error to answer with:
/// <c>NotImplemented</c> for S3 subresources (<c>?acl</c>, <c>?tagging</c>, <c>?versioning</c>, <c>?policy</c>...), for a
/// <c>versionId</c> (no versioning here), for <c>partNumber</c> on GET/HEAD (parts of a completed upload are not kept)
/// and for browser POST uploads; <c>MethodNotAllowed</c> for a method the resource has no operation for. Query
/// parameters S3 does not define are ignored, as S3 ignores them (SDKs add <c>x-id=GetObject</c>).
/// </summary>
internal static class S3OperationClassifier
{
    // S3's subresources that select an operation the gateway does not serve.
    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory", "legal-hold",
        "lifecycle", "logging", "metadataConfiguration", "metadataTable", "metrics", "notification", "object-lock", "ownershipControls",
        "policy", "policyStatus", "publicAccessBlock", "renameObject", "replication", "requestPayment", "restore", "retention",
        "select", "select-type", "session", "tagging", "torrent", "versioning", "versions", "website", "versionId",
    };

    public static bool TryClassify(S3RequestHead request, S3Target target, out S3Operation operation, [NotNullWhen(false)] out S3Error? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(target);
        operation = default;
        error = null;
        var query = request.Query;
        string method = request.Method;
        bool copySource = request.Headers.ContainsKey("x-amz-copy-source");

        if (target.Kind == S3TargetKind.Service)
        {
            if (method is "GET")
                return Ok(S3Operation.ListBuckets, out operation);
            error = S3Errors.MethodNotAllowed();
            return false;
        }

        foreach (var (name, _) in query.Parameters)
        {
            if (Unsupported.Contains(name))
            {
                error = S3Errors.NotImplemented($"This gateway does not implement the '{name}' subresource.");
                return false;
            }
        }
        if (copySource && !(method == "PUT" && target.Kind == S3TargetKind.Object))
        {
            error = S3Errors.InvalidArgument("You can only specify a copy source header for copy requests.");
            return false;
        }

        if (target.Kind == S3TargetKind.Bucket)
        {
            switch (method)
            {
                case "GET" when query.Contains("location"):
                    return Ok(S3Operation.GetBucketLocation, out operation);
                case "GET" when query.Contains("uploads"):
                    return Ok(S3Operation.ListMultipartUploads, out operation);
                case "GET":
                    switch (query["list-type"])
                    {
                        case null:
                            return Ok(S3Operation.ListObjects, out operation);
                        case "2":
                            return Ok(S3Operation.ListObjectsV2, out operation);
                        default:
                            error = S3Errors.InvalidArgument("Invalid List Type specified in list-type parameter");
                            return false;
                    }
                case "HEAD":
                    return Ok(S3Operation.HeadBucket, out operation);
                case "PUT":
                    return Ok(S3Operation.CreateBucket, out operation);
                case "DELETE":
                    return Ok(S3Operation.DeleteBucket, out operation);
                case "POST" when query.Contains("delete"):
                    return Ok(S3Operation.DeleteObjects, out operation);
                case "POST":
                    error = S3Errors.NotImplemented("This gateway does not implement browser-based (POST form) uploads.");
                    return false;
                default:
                    error = S3Errors.MethodNotAllowed();
                    return false;
            }
        }

        bool uploadId = query.Contains("uploadId");
        bool partNumber = query.Contains("partNumber");
        switch (method)
        {
            case "GET" or "HEAD" when partNumber && !uploadId:
                error = S3Errors.NotImplemented("This gateway does not serve objects by part number; ask for a byte range.");
                return false;
            case "GET" when uploadId:
                return Ok(S3Operation.ListParts, out operation);
            case "GET" when query.Contains("uploads"):
                error = S3Errors.InvalidRequest("Key is not expected for the GET method ?uploads subresource");
                return false;
            case "GET":
                return Ok(S3Operation.GetObject, out operation);
            case "HEAD":
                return Ok(S3Operation.HeadObject, out operation);
            case "PUT" when partNumber && uploadId:
                return Ok(copySource ? S3Operation.UploadPartCopy : S3Operation.UploadPart, out operation);
            case "PUT" when partNumber:
                error = S3Errors.InvalidArgument("This operation does not accept partNumber without uploadId");
                return false;
            case "PUT" when uploadId:
                error = S3Errors.InvalidArgument("This operation does not accept uploadId without partNumber");
                return false;
            case "PUT":
                return Ok(copySource ? S3Operation.CopyObject : S3Operation.PutObject, out operation);
            case "DELETE" when uploadId:
                return Ok(S3Operation.AbortMultipartUpload, out operation);
            case "DELETE":
                return Ok(S3Operation.DeleteObject, out operation);
            case "POST" when query.Contains("uploads"):
                return Ok(S3Operation.CreateMultipartUpload, out operation);
            case "POST" when uploadId:
                return Ok(S3Operation.CompleteMultipartUpload, out operation);
            default:
                error = S3Errors.MethodNotAllowed();
                return false;
        }
    }

    private static bool Ok(S3Operation value, out S3Operation operation)
    {
        operation = value;
        return true;
    }
}
