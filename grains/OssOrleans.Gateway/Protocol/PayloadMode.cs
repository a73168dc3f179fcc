namespace OssOrleans.Gateway.Protocol;

/// <summary>What a signed request says of its body (<c>x-amz-content-sha256</c>, or its absence on a presigned URL).</summary>
internal enum PayloadMode
{
    /// <summary>A hex SHA-256 of the body: the body must hash to it (<see cref="SigV4Authentication.PayloadSha256"/>).</summary>
    Sha256,

    /// <summary><c>UNSIGNED-PAYLOAD</c>: the body is not covered by the signature (presigned URLs, most TLS clients).</summary>
    Unsigned,

    /// <summary><c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD</c>: aws-chunked, each chunk signed over the previous signature.</summary>
    StreamingSigned,

    /// <summary><c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER</c>: signed chunks, then trailing headers with their own signature.</summary>
    StreamingSignedTrailer,

    /// <summary><c>STREAMING-UNSIGNED-PAYLOAD-TRAILER</c>: aws-chunked without signatures, a checksum in the trailer.</summary>
    StreamingUnsignedTrailer,
}
