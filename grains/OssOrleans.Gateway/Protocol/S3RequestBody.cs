using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Opens a request body for reading as the object's bytes, with every check its headers ask for: the signed
/// SHA-256, aws-chunked decoding with chunk and trailer signatures, <c>Content-MD5</c>, and one
/// <c>x-amz-checksum-*</c> from a header or from the trailer (declared in <c>x-amz-trailer</c>). Header problems are
/// answered here, before a byte is read; body problems surface from the stream's reads.
/// </summary>
internal static class S3RequestBody
{
    private const string AwsChunked = "aws-chunked";

    /// <param name="body">The server's request body (HTTP framing removed; not owned).</param>
    /// <param name="headers">The request headers.</param>
    /// <param name="contentLength">The request's Content-Length, null when it came with Transfer-Encoding: chunked.</param>
    /// <param name="authentication">The verified signature, or null for an anonymous request the caller allowed.</param>
    /// <param name="signatureUnchecked">
    /// True when the request carries a signature that the caller did not check because it cannot (a gateway without
    /// tenants has no secrets): signed aws-chunked bodies are then decoded with their chunk signatures unchecked. Every
    /// other check (framing, SHA-256, Content-MD5, checksums) still runs.
    /// </param>
    public static bool TryOpen(Stream body, IHeaderDictionary headers, long? contentLength, SigV4Authentication? authentication,
        [NotNullWhen(true)] out S3BodyStream? stream, [NotNullWhen(false)] out S3Error? error, bool signatureUnchecked = false)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(headers);
        stream = null;
        if (!TryReadMode(headers, authentication, signatureUnchecked, out var mode, out byte[]? payloadSha256, out error))
            return false;
        bool streaming = mode is PayloadMode.StreamingSigned or PayloadMode.StreamingSignedTrailer or PayloadMode.StreamingUnsignedTrailer;

        byte[]? md5 = null;
        if (headers.TryGetValue("Content-MD5", out var md5Values))
        {
            md5 = new byte[16];
            if (md5Values.Count != 1 || md5Values[0] is not { Length: 24 } md5Text || !Convert.TryFromBase64String(md5Text, md5, out int written) || written != 16)
            {
                error = S3Errors.InvalidDigest();
                return false;
            }
        }
        if (!TryReadChecksumHeaders(headers, out var headerAlgorithm, out byte[]? headerChecksum, out error)
            || !TryReadTrailerDeclaration(headers, mode, out string? trailer, out var trailerAlgorithm, out error))
        {
            return false;
        }
        if (headerAlgorithm is not null && trailerAlgorithm is not null)
        {
            error = S3Errors.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
            return false;
        }
        var algorithm = headerAlgorithm ?? trailerAlgorithm;
        if (headers.TryGetValue("x-amz-sdk-checksum-algorithm", out var sdkAlgorithm))
        {
            if (!S3Checksum.TryParseName(sdkAlgorithm.Count == 1 ? sdkAlgorithm[0] : null, out var declared))
            {
                error = S3Errors.InvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
                return false;
            }
            if (algorithm is null)
            {
                error = S3Errors.InvalidRequest("x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.");
                return false;
            }
            if (declared != algorithm)
            {
                error = S3Errors.InvalidRequest($"x-amz-sdk-checksum-algorithm says {S3Checksum.Name(declared)} but the checksum sent is {S3Checksum.Name(algorithm.Value)}.");
                return false;
            }
        }

        var checks = new BodyChecks(payloadSha256, md5, algorithm, headerChecksum);
        if (streaming)
        {
            if (!headers.TryGetValue("x-amz-decoded-content-length", out var decodedValues))
            {
                checks.Dispose();
                error = S3Errors.MissingContentLength();
                return false;
            }
            if (decodedValues.Count != 1 || !long.TryParse(decodedValues[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long decodedLength))
            {
                checks.Dispose();
                error = S3Errors.InvalidArgument("x-amz-decoded-content-length must be a non-negative number.");
                return false;
            }
            stream = new AwsChunkedStream(body, decodedLength, mode, authentication, trailer, checks, verifySignatures: authentication is not null);
            return true;
        }

        if (HasAwsChunkedEncoding(headers))
        {
            checks.Dispose();
            error = S3Errors.InvalidRequest("Content-Encoding: aws-chunked needs a STREAMING-* x-amz-content-sha256.");
            return false;
        }
        if (contentLength is not { } length)
        {
            checks.Dispose();
            error = S3Errors.MissingContentLength();
            return false;
        }
        stream = new VerifyingBodyStream(body, length, checks);
        return true;
    }

    /// <summary>
    /// The Content-Encoding to store with the object: the request's, less <c>aws-chunked</c> (which describes the
    /// transfer, not the object); null when nothing is left.
    /// </summary>
    public static string? StoredContentEncoding(IHeaderDictionary headers)
    {
        var codings = new List<string>();
        foreach (string? value in headers.ContentEncoding)
        {
            foreach (string coding in (value ?? "").Split(','))
            {
                string trimmed = coding.Trim();
                if (trimmed.Length > 0 && !trimmed.Equals(AwsChunked, StringComparison.OrdinalIgnoreCase))
                    codings.Add(trimmed);
            }
        }
        return codings.Count == 0 ? null : string.Join(",", codings);
    }

    private static bool HasAwsChunkedEncoding(IHeaderDictionary headers)
    {
        foreach (string? value in headers.ContentEncoding)
        {
            foreach (string coding in (value ?? "").Split(','))
            {
                if (coding.Trim().Equals(AwsChunked, StringComparison.OrdinalIgnoreCase))
                    return true;
            }
        }
        return false;
    }

    private static bool TryReadMode(IHeaderDictionary headers, SigV4Authentication? authentication, bool signatureUnchecked, out PayloadMode mode,
        out byte[]? payloadSha256, [NotNullWhen(false)] out S3Error? error)
    {
        error = null;
        if (authentication is not null)
        {
            mode = authentication.PayloadMode;
            payloadSha256 = mode == PayloadMode.Sha256 ? authentication.PayloadSha256.ToArray() : null;
            return true;
        }
        // Anonymous: nothing is signed, but a declared SHA-256 is still checked and unsigned chunking still decoded.
        mode = PayloadMode.Unsigned;
        payloadSha256 = null;
        if (!headers.TryGetValue("x-amz-content-sha256", out var values))
            return true;
        if (values.Count != 1 || !SigV4Signing.TryParsePayloadHash(values[0], out mode, out payloadSha256))
        {
            error = S3Errors.InvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.");
            return false;
        }
        if (mode is (PayloadMode.StreamingSigned or PayloadMode.StreamingSignedTrailer) && !signatureUnchecked)
        {
            error = S3Errors.InvalidRequest("Anonymous requests don't support this x-amz-content-sha256 value. Please use UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER.");
            return false;
        }
        return true;
    }

    private static bool TryReadChecksumHeaders(IHeaderDictionary headers, out ChecksumAlgorithm? algorithm, out byte[]? value, [NotNullWhen(false)] out S3Error? error)
    {
        algorithm = null;
        value = null;
        error = null;
        foreach (var (name, values) in headers)
        {
            if (!name.StartsWith("x-amz-checksum-", StringComparison.OrdinalIgnoreCase)
                || name.Equals("x-amz-checksum-type", StringComparison.OrdinalIgnoreCase)
                || name.Equals("x-amz-checksum-algorithm", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (!S3Checksum.TryParseHeaderName(name, out var found))
            {
                error = S3Errors.InvalidRequest("The algorithm type you specified in x-amz-checksum- header is invalid.");
                return false;
            }
            if (algorithm is not null)
            {
                error = S3Errors.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
                return false;
            }
            if (values.Count != 1 || !S3Checksum.TryParseValue(found, values[0], out value))
            {
                error = S3Errors.InvalidRequest($"Value for {S3Checksum.HeaderName(found)} header is invalid.");
                return false;
            }
            algorithm = found;
        }
        return true;
    }

    private static bool TryReadTrailerDeclaration(IHeaderDictionary headers, PayloadMode mode, out string? trailer, out ChecksumAlgorithm? algorithm,
        [NotNullWhen(false)] out S3Error? error)
    {
        trailer = null;
        algorithm = null;
        error = null;
        if (!headers.TryGetValue("x-amz-trailer", out var values))
            return true;
        if (mode is not (PayloadMode.StreamingSignedTrailer or PayloadMode.StreamingUnsignedTrailer))
        {
            error = S3Errors.InvalidRequest("x-amz-trailer needs x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.");
            return false;
        }
        var names = string.Join(',', values.ToArray()).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        // S3 takes one trailing header, a checksum.
        if (names.Length != 1 || !S3Checksum.TryParseHeaderName(names[0], out var found))
        {
            error = S3Errors.InvalidRequest("The value specified in the x-amz-trailer header is not supported");
            return false;
        }
        trailer = names[0].ToLowerInvariant();
        algorithm = found;
        return true;
    }
}
