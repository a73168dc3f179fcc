using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Listing;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Gateway.Reading;
using OssOrleans.Gateway.Writing;
using OssOrleans.Grains.Security;

namespace OssOrleans.Gateway;

/// <summary>
/// Every S3 request, in this order: read its head (the raw target, not ASP.NET's decoded path), authenticate it, find what
/// it addresses and which operation it is, authorize the tenant for exactly that, and only then run the operation, which
/// is the first step that calls a grain or the origin. Errors are S3's XML (no body on HEAD) with the request id; an answer
/// that fails after it has started is cut. Each authenticated request leaves an audit line (tenant, verb, resource,
/// bytes, result) and never a secret, signature or token.
/// </summary>
internal sealed class S3Router(
    GatewayAuthenticator authenticator,
    S3AddressResolver resolver,
    BucketHandler buckets,
    ListingHandler listings,
    ObjectReadHandler reads,
    ObjectWriteHandler writes,
    MultipartHandler multipart,
    GatewayInstruments instruments,
    AuditLog audit,
    TimeProvider time,
    ILocalSiloDetails silo,
    ILogger<S3Router> logger)
{
    // S3's HostId identifies the host that answered; here a fingerprint of the silo, not its address.
    private readonly string _hostId = Convert.ToBase64String(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(silo.SiloAddress.ToString())));

    public async Task HandleAsync(HttpContext http)
    {
        var exchange = new S3Exchange(http, Convert.ToHexString(RandomNumberGenerator.GetBytes(8)));
        http.Response.Headers["x-amz-request-id"] = exchange.RequestId;
        http.Response.Headers["x-amz-id-2"] = _hostId;
        http.Response.Headers.Server = "OssOrleans";
        instruments.Request();
        string result = "ok";
        try
        {
            var error = Prepare(exchange);
            if (error is not null)
            {
                result = Refuse(exchange, error);
                await S3Responses.ErrorAsync(exchange, error, _hostId).ConfigureAwait(false);
                return;
            }
            await DispatchAsync(exchange).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            result = "aborted";
        }
        catch (Exception ex)
        {
            var error = GatewayErrors.From(ex, out bool expected);
            result = error.Code;
            string operation = exchange.Operation?.ToString() ?? "(unclassified)";
            if (!expected)
            {
                if (error.StatusCode == StatusCodes.Status500InternalServerError)
                    GatewayLog.Unexpected(logger, ex, operation, exchange.Resource);
                else
                    GatewayLog.Failed(logger, operation, exchange.Resource, ex.GetType().Name, ex.Message);
            }
            if (http.Response.HasStarted)
            {
                // Headers (and maybe bytes) are out: the only honest answer left is a short body.
                GatewayLog.Cut(logger, operation, exchange.Resource, ex.GetType().Name, ex.Message);
                instruments.Cut();
                http.Abort();
            }
            else
            {
                ResetForError(http);
                await S3Responses.ErrorAsync(exchange, error, _hostId).ConfigureAwait(false);
            }
        }
        finally
        {
            if (exchange.Tenant is not null)
                audit.Write(exchange.Tenant.Id, exchange.Operation is { } op ? S3Access.Verb(op) : "(unclassified)", AuditUri(exchange), exchange.Bytes, result);
            if (result == "ok")
                instruments.Bytes(exchange.Bytes);
        }
    }

    /// <summary>Authenticate, resolve, classify, authorize: null when the operation may run.</summary>
    private S3Error? Prepare(S3Exchange exchange)
    {
        if (!S3RequestHead.TryCreate(exchange.Http, out var head, out var error))
            return error;
        exchange.Head = head;
        if (!authenticator.TryAuthenticate(exchange, time.GetUtcNow(), out error))
            return error;
        if (!resolver.TryResolve(head, out var target, out error))
            return error;
        exchange.Target = target;
        if (!S3OperationClassifier.TryClassify(head, target, out var operation, out error))
            return error;
        exchange.Operation = operation;
        error = S3Access.Check(exchange.Tenant!, operation, target, head, out var copySource);
        exchange.CopySource = copySource;
        return error;
    }

    private string Refuse(S3Exchange exchange, S3Error error)
    {
        instruments.Refused();
        string who = exchange.Tenant?.Id ?? GatewayAuthenticator.ClaimedKey(exchange.Head);
        GatewayLog.Refused(logger, exchange.Operation?.ToString() ?? "(unclassified)", exchange.Resource, who, error.Code, error.Message);
        if (exchange.Tenant is null)
            audit.Write(who, "(unauthenticated)", exchange.Head?.RawPath.Length > 256 ? "(long)" : exchange.Head?.RawPath ?? "", 0, error.Code);
        return error.Code;
    }

    private Task DispatchAsync(S3Exchange exchange) => exchange.Operation switch
    {
        S3Operation.ListBuckets => buckets.ListBucketsAsync(exchange),
        S3Operation.HeadBucket => buckets.HeadBucketAsync(exchange),
        S3Operation.GetBucketLocation => buckets.GetBucketLocationAsync(exchange),
        S3Operation.CreateBucket => buckets.CreateBucketAsync(exchange),
        S3Operation.DeleteBucket => buckets.DeleteBucketAsync(exchange),
        S3Operation.ListObjects => listings.ListObjectsAsync(exchange, v2: false),
        S3Operation.ListObjectsV2 => listings.ListObjectsAsync(exchange, v2: true),
        S3Operation.ListMultipartUploads => listings.ListMultipartUploadsAsync(exchange),
        S3Operation.DeleteObjects => writes.DeleteManyAsync(exchange),
        S3Operation.GetObject => reads.GetAsync(exchange, head: false),
        S3Operation.HeadObject => reads.GetAsync(exchange, head: true),
        S3Operation.PutObject => writes.PutAsync(exchange),
        S3Operation.CopyObject => writes.CopyAsync(exchange),
        S3Operation.DeleteObject => writes.DeleteAsync(exchange),
        S3Operation.CreateMultipartUpload => multipart.CreateAsync(exchange),
        S3Operation.UploadPart => multipart.UploadPartAsync(exchange),
        S3Operation.UploadPartCopy => multipart.UploadPartCopyAsync(exchange),
        S3Operation.CompleteMultipartUpload => multipart.CompleteAsync(exchange),
        S3Operation.AbortMultipartUpload => multipart.AbortAsync(exchange),
        S3Operation.ListParts => multipart.ListPartsAsync(exchange),
        _ => throw S3Errors.NotImplemented().ToException(),
    };

    // An error found after the handler set success headers (ETag, Content-Range...) must not carry them.
    private static void ResetForError(HttpContext http)
    {
        var headers = http.Response.Headers;
        foreach (var name in headers.Keys.ToList())
        {
            if (name is not ("x-amz-request-id" or "x-amz-id-2" or "Server" or "Date"))
                headers.Remove(name);
        }
        http.Response.ContentLength = null;
    }

    private static string AuditUri(S3Exchange exchange) =>
        exchange.Target is { Bucket: { } bucket } target ? (target.Key is null ? $"s3://{bucket}" : $"s3://{bucket}/{target.Key}") : "s3://";
}
