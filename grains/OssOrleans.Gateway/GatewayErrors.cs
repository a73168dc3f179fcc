using OssOrleans.Gateway.Protocol;
using OssOrleans.Storage;

namespace OssOrleans.Gateway;

/// <summary>
/// The one translation of what the cluster and the origin throw into the S3 error a client expects. Messages are the
/// gateway's own: an origin's message can name its endpoint, so none is passed through.
/// </summary>
internal static class GatewayErrors
{
    /// <summary>The S3 error for <paramref name="ex"/>, and whether it is an expected condition (not worth a warning).</summary>
    public static S3Error From(Exception ex, out bool expected)
    {
        expected = true;
        switch (ex)
        {
            case S3ProtocolException p:
                return p.Error;
            case OssObjectNotFoundException or ObjectNotFoundException:
                return S3Errors.NoSuchKey();
            case UploadNotFoundException:
                return S3Errors.NoSuchUpload();
            case OssObjectExistsException or ObjectAlreadyExistsException:
                return S3Errors.PreconditionFailed();
            case OssAccessDeniedException:
                return S3Errors.AccessDenied();
            case OriginRefusedException r:
                return new S3Error(r.Code, r.StatusCode is >= 400 and < 600 ? r.StatusCode : 400, $"The origin refused the request ({r.Code}).");
            case NotSupportedException:
                return S3Errors.NotImplemented("The origin behind this gateway does not support this operation.");
            case Microsoft.AspNetCore.Http.BadHttpRequestException bad when bad.StatusCode == 413:
                return S3Errors.EntityTooLarge();
            case Microsoft.AspNetCore.Http.BadHttpRequestException bad when bad.StatusCode == 408:
                return RequestTimeout();
            case Microsoft.AspNetCore.Http.BadHttpRequestException:
                return S3Errors.IncompleteBody();
            case BodyTimeoutException:
                return RequestTimeout();
            case ArgumentException:
                // The origin's own rules on keys (the local store holds no "dir/" objects): the request, not the gateway, is at fault.
                return S3Errors.InvalidArgument("The origin behind this gateway cannot hold this key.");
        }
        expected = false;
        return ex switch
        {
            // A version replaced while it was read, an origin that failed after its retries, a silo lost mid-call: try again.
            ObjectChangedException or PreconditionFailedException => S3Errors.ServiceUnavailable() with { Message = "The object changed while it was read; please retry." },
            OriginFailedException or ObjectStoreException or TimeoutException or SiloUnavailableException or OrleansMessageRejectionException
                => S3Errors.ServiceUnavailable(),
            _ => S3Errors.InternalError(),
        };
    }

    public static S3Error RequestTimeout() =>
        new("RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period.");
}
