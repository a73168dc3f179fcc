namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// The S3 errors the gateway answers with, each with the code and status S3 uses (AWS's S3 API reference, "Error
/// responses"). One catalogue, so a code is spelled, and paired with its status, in one place.
/// </summary>
internal static class S3Errors
{
    // ---- authentication ----

    public static S3Error AccessDenied(string message = "Access Denied") => new("AccessDenied", 403, message);

    public static S3Error RequestExpired() => new("AccessDenied", 403, "Request has expired");

    public static S3Error RequestNotYetValid() => new("AccessDenied", 403, "Request is not valid yet");

    public static S3Error InvalidAccessKeyId() =>
        new("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.");

    public static S3Error SignatureDoesNotMatch(string message = "The request signature we calculated does not match the signature you provided. Check your key and signing method.") =>
        new("SignatureDoesNotMatch", 403, message);

    public static S3Error RequestTimeTooSkewed() =>
        new("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large.");

    public static S3Error AuthorizationHeaderMalformed(string reason) =>
        new("AuthorizationHeaderMalformed", 400, "The authorization header is malformed; " + reason);

    public static S3Error AuthorizationQueryParametersError(string message) =>
        new("AuthorizationQueryParametersError", 400, message);

    public static S3Error MissingSecurityHeader(string header) =>
        new("MissingSecurityHeader", 400, $"Your request was missing a required header: {header}.");

    public static S3Error InvalidToken() =>
        new("InvalidToken", 400, "The provided token is malformed or otherwise invalid. This endpoint does not issue session tokens.");

    public static S3Error UnsupportedAuthorization() =>
        new("InvalidRequest", 400, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");

    // ---- request bodies ----

    public static S3Error XAmzContentSHA256Mismatch() =>
        new("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed.");

    public static S3Error IncompleteBody(string message = "You did not provide the number of bytes specified by the Content-Length HTTP header.") =>
        new("IncompleteBody", 400, message);

    public static S3Error MissingContentLength() => new("MissingContentLength", 411, "You must provide the Content-Length HTTP header.");

    public static S3Error BadDigest(string message = "The Content-MD5 you specified did not match what we received.") =>
        new("BadDigest", 400, message);

    public static S3Error InvalidDigest() => new("InvalidDigest", 400, "The Content-MD5 you specified is not valid.");

    public static S3Error InvalidChunkSize() =>
        new("InvalidChunkSizeError", 400, "Only the last chunk is allowed to have a size less than 8192 bytes");

    public static S3Error MalformedTrailer(string message = "The request contained trailing data that was not well-formed or did not conform to our published schema.") =>
        new("MalformedTrailerError", 400, message);

    public static S3Error MalformedXml(string message = "The XML you provided was not well-formed or did not validate against our published schema.") =>
        new("MalformedXML", 400, message);

    public static S3Error MaxMessageLengthExceeded() => new("MaxMessageLengthExceeded", 400, "Your request was too big.");

    // ---- addressing and arguments ----

    public static S3Error InvalidRequest(string message) => new("InvalidRequest", 400, message);

    public static S3Error InvalidArgument(string message) => new("InvalidArgument", 400, message);

    public static S3Error InvalidUri() => new("InvalidURI", 400, "Couldn't parse the specified URI.");

    public static S3Error InvalidBucketName(string message = "The specified bucket is not valid.") => new("InvalidBucketName", 400, message);

    public static S3Error KeyTooLong() => new("KeyTooLongError", 400, "Your key is too long.");

    public static S3Error NotImplemented(string message = "A header or query parameter you provided implies functionality that is not implemented.") =>
        new("NotImplemented", 501, message);

    public static S3Error MethodNotAllowed() => new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");

    /// <summary>416; the response also carries <c>Content-Range: bytes */size</c> (<see cref="ByteRange.UnsatisfiedContentRange"/>).</summary>
    public static S3Error InvalidRange() => new("InvalidRange", 416, "The requested range is not satisfiable");

    public static S3Error PreconditionFailed() => new("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");

    public static S3Error InvalidPartOrder() =>
        new("InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts must be ordered by part number.");

    // ---- what the integration answers from the cluster and origin ----

    public static S3Error NoSuchBucket() => new("NoSuchBucket", 404, "The specified bucket does not exist");

    public static S3Error NoSuchKey() => new("NoSuchKey", 404, "The specified key does not exist.");

    public static S3Error NoSuchUpload() =>
        new("NoSuchUpload", 404, "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.");

    public static S3Error InvalidPart() =>
        new("InvalidPart", 400, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified ETag might not have matched the uploaded part's ETag.");

    public static S3Error EntityTooSmall() => new("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.");

    public static S3Error EntityTooLarge() => new("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size.");

    public static S3Error SlowDown() => new("SlowDown", 503, "Please reduce your request rate.");

    public static S3Error ServiceUnavailable() => new("ServiceUnavailable", 503, "Service is unable to handle request.");

    public static S3Error InternalError() => new("InternalError", 500, "We encountered an internal error. Please try again.");
}
