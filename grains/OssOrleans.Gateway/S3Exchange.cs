using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Security;

namespace OssOrleans.Gateway;

/// <summary>
/// One S3 request as the gateway works on it: what the protocol layer read of it, who made it (after authentication), and
/// what it touched, for the answer and the audit line. Lives as long as the request.
/// </summary>
internal sealed class S3Exchange(HttpContext http, string requestId)
{
    public HttpContext Http { get; } = http;

    public HttpRequest Request => Http.Request;

    public HttpResponse Response => Http.Response;

    /// <summary>Random per request; in the x-amz-request-id header and in error bodies.</summary>
    public string RequestId { get; } = requestId;

    public S3RequestHead Head { get; set; } = null!;

    public S3Target Target { get; set; } = null!;

    /// <summary>Null until the request is classified (a refusal may come first).</summary>
    public S3Operation? Operation { get; set; }

    /// <summary>Set once authenticated: the tenant (the anonymous tenant in a cluster without tenants).</summary>
    public Tenant? Tenant { get; set; }

    /// <summary>The checked signature, or null (an anonymous cluster's request).</summary>
    public SigV4Authentication? Signature { get; set; }

    /// <summary>The request carries a signature nobody could check (anonymous cluster): body framing is parsed, not verified.</summary>
    public bool SignatureUnchecked { get; set; }

    /// <summary>The source of a copy, parsed and authorized with the request.</summary>
    public CopySource? CopySource { get; set; }

    /// <summary>Body bytes served or stored, for the audit line.</summary>
    public long Bytes { get; set; }

    public CancellationToken Aborted => Http.RequestAborted;

    public string Bucket => Target.Bucket!;

    public string Key => Target.Key!;

    public bool IsHead => HttpMethods.IsHead(Request.Method);

    /// <summary>What an error names as its Resource: "/bucket/key".</summary>
    public string Resource => Target?.Resource ?? "/";
}
