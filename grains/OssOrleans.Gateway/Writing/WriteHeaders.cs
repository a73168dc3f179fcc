using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.Gateway.Writing;

/// <summary>
/// What a write's headers ask for that the gateway acts on (create-only), and what it refuses rather than silently not do:
/// server-side encryption (a client asking for it must not get plaintext at rest unknowingly), object lock, public ACLs,
/// and If-None-Match other than '*'. User metadata (<c>x-amz-meta-*</c>) and tags are accepted and not kept:
/// the origin layer stores content and its type only (see the README).
/// </summary>
internal static class WriteHeaders
{
    /// <summary>True for a create-only write: <c>If-None-Match: *</c>, or OSS's <c>x-oss-forbid-overwrite: true</c> (then <paramref name="oss"/>).</summary>
    public static bool CreateOnly(IHeaderDictionary headers, out bool oss)
    {
        oss = string.Equals(headers["x-oss-forbid-overwrite"].ToString(), "true", StringComparison.OrdinalIgnoreCase);
        var ifNoneMatch = headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && ifNoneMatch.ToString().Trim() != "*")
            throw S3Errors.NotImplemented("A write takes If-None-Match only as '*' (create-only).").ToException();
        if (headers.IfMatch.Count > 0 && (ifNoneMatch.Count > 0 || oss))
            throw S3Errors.InvalidRequest("A write takes If-Match or a create-only condition, not both.").ToException();
        return ifNoneMatch.Count > 0 || oss;
    }

    /// <summary>The ETags of <c>If-Match</c> on a write (or "*": the object must exist), or null when there is none.</summary>
    public static string? IfMatch(IHeaderDictionary headers)
    {
        var values = headers.IfMatch;
        if (values.Count == 0)
            return null;
        string text = values.ToString();
        if (text.Length > 1024)
            throw S3Errors.InvalidArgument("If-Match is too long.").ToException();
        return text;
    }

    public static void RefuseUnsupported(IHeaderDictionary headers)
    {
        foreach (var (name, _) in headers)
        {
            if (name.StartsWith("x-amz-server-side-encryption", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("x-amz-object-lock", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("x-amz-grant-", StringComparison.OrdinalIgnoreCase))
            {
                throw S3Errors.NotImplemented($"This gateway does not implement the '{name.ToLowerInvariant()}' header.").ToException();
            }
        }
        string acl = headers["x-amz-acl"].ToString();
        if (acl.Length > 0 && acl is not ("private" or "bucket-owner-full-control"))
            throw S3Errors.NotImplemented("This gateway keeps objects private; it does not implement other canned ACLs.").ToException();
    }

    /// <summary>The error of a create-only write that found the object: 412 for If-None-Match, OSS's 409 for its own header.</summary>
    public static S3Error Exists(bool oss) =>
        oss ? new S3Error("FileAlreadyExists", 409, "The object you specified already exists and can not be overwritten.") : S3Errors.PreconditionFailed();
}
