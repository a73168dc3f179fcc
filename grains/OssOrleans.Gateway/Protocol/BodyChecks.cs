using System.Security.Cryptography;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Everything a request body is checked against, computed in one pass as the bytes stream by: the signed SHA-256
/// (<c>x-amz-content-sha256</c>), <c>Content-MD5</c>, and one additional checksum whose expected value comes from a
/// header or, for aws-chunked bodies, from the trailer. <see cref="Verify"/> runs once, at the end of the body.
/// </summary>
internal sealed class BodyChecks : IDisposable
{
    private readonly byte[]? _expectedSha256;
    private readonly IncrementalHash? _sha256;
    private readonly byte[]? _expectedMd5;
    private readonly IncrementalHash? _md5;
    private readonly S3Checksum? _checksum;
    private byte[]? _expectedChecksum;

    /// <param name="expectedSha256">The signed payload hash, or null when the payload is not signed as a whole.</param>
    /// <param name="expectedMd5">The decoded Content-MD5, or null.</param>
    /// <param name="checksum">The additional checksum to compute, or null.</param>
    /// <param name="expectedChecksum">Its expected value from a header, or null when it comes in the trailer.</param>
    public BodyChecks(byte[]? expectedSha256, byte[]? expectedMd5, ChecksumAlgorithm? checksum, byte[]? expectedChecksum)
    {
        if (expectedSha256 is not null)
        {
            _expectedSha256 = expectedSha256;
            _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }
        if (expectedMd5 is not null)
        {
            _expectedMd5 = expectedMd5;
            _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        }
        if (checksum is { } algorithm)
        {
            _checksum = S3Checksum.Create(algorithm);
            _expectedChecksum = expectedChecksum;
        }
    }

    public static BodyChecks None() => new(null, null, null, null);

    /// <summary>The additional checksum being computed, if any.</summary>
    public ChecksumAlgorithm? ChecksumAlgorithm => _checksum?.Algorithm;

    /// <summary>Whether the checksum's expected value is still to come (from the trailer).</summary>
    public bool AwaitsTrailerChecksum => _checksum is not null && _expectedChecksum is null;

    /// <summary>The computed checksum (base64), once <see cref="Verify"/> has passed.</summary>
    public string? ChecksumBase64 { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            return;
        _sha256?.AppendData(data);
        _md5?.AppendData(data);
        _checksum?.Append(data);
    }

    /// <summary>The expected checksum read from the trailer.</summary>
    public void SetTrailerChecksum(byte[] expected) => _expectedChecksum = expected;

    /// <summary>Throws the S3 error a client expects when the body does not match what it was sent with.</summary>
    public void Verify()
    {
        if (_sha256 is not null && !CryptographicOperations.FixedTimeEquals(_sha256.GetCurrentHash(), _expectedSha256))
            throw S3Errors.XAmzContentSHA256Mismatch().ToException();
        if (_md5 is not null && !CryptographicOperations.FixedTimeEquals(_md5.GetCurrentHash(), _expectedMd5))
            throw S3Errors.BadDigest().ToException();
        if (_checksum is not null)
        {
            if (_expectedChecksum is null)
                throw S3Errors.MalformedTrailer($"The trailer did not carry the declared {S3Checksum.HeaderName(_checksum.Algorithm)}.").ToException();
            byte[] computed = _checksum.GetCurrentHash();
            if (!CryptographicOperations.FixedTimeEquals(computed, _expectedChecksum))
                throw S3Errors.BadDigest($"The {S3Checksum.Name(_checksum.Algorithm)} you specified did not match the calculated checksum.").ToException();
            ChecksumBase64 = Convert.ToBase64String(computed);
        }
    }

    public void Dispose()
    {
        _sha256?.Dispose();
        _md5?.Dispose();
        _checksum?.Dispose();
    }
}
