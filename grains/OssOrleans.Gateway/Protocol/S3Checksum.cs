using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// One S3 additional checksum computed incrementally over a body, and the names and encodings that go with it. S3
/// sends each as the base64 of its bytes, CRCs in big-endian order: CRC32 of "123456789" (0xCBF43926) is "y/Q5Jg==".
/// </summary>
internal sealed class S3Checksum : IDisposable
{
    private readonly NonCryptographicHashAlgorithm? _crc;
    private readonly IncrementalHash? _sha;

    private S3Checksum(ChecksumAlgorithm algorithm)
    {
        Algorithm = algorithm;
        switch (algorithm)
        {
            case ChecksumAlgorithm.Crc32: _crc = new Crc32(); break;
            case ChecksumAlgorithm.Crc32C: _crc = new Crc32(Crc32ParameterSet.Crc32C); break;
            case ChecksumAlgorithm.Crc64Nvme: _crc = new Crc64(Crc64ParameterSet.Nvme); break;
            case ChecksumAlgorithm.Sha1: _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1); break;
            case ChecksumAlgorithm.Sha256: _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256); break;
            default: throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null);
        }
    }

    public ChecksumAlgorithm Algorithm { get; }

    public static S3Checksum Create(ChecksumAlgorithm algorithm) => new(algorithm);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_crc is not null)
            _crc.Append(data);
        else
            _sha!.AppendData(data);
    }

    /// <summary>The checksum of everything appended so far, in S3's byte order.</summary>
    public byte[] GetCurrentHash()
    {
        byte[] hash = new byte[HashLength(Algorithm)];
        switch (_crc)
        {
            case Crc32 crc32: BinaryPrimitives.WriteUInt32BigEndian(hash, crc32.GetCurrentHashAsUInt32()); break;
            case Crc64 crc64: BinaryPrimitives.WriteUInt64BigEndian(hash, crc64.GetCurrentHashAsUInt64()); break;
            default: _sha!.GetCurrentHash(hash); break;
        }
        return hash;
    }

    public string GetCurrentBase64() => Convert.ToBase64String(GetCurrentHash());

    public void Dispose() => _sha?.Dispose();

    public static int HashLength(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Crc32 or ChecksumAlgorithm.Crc32C => 4,
        ChecksumAlgorithm.Crc64Nvme => 8,
        ChecksumAlgorithm.Sha1 => 20,
        _ => 32,
    };

    /// <summary>As S3 writes it in XML elements and messages: CRC32, CRC32C, CRC64NVME, SHA1, SHA256.</summary>
    public static string Name(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Crc32 => "CRC32",
        ChecksumAlgorithm.Crc32C => "CRC32C",
        ChecksumAlgorithm.Crc64Nvme => "CRC64NVME",
        ChecksumAlgorithm.Sha1 => "SHA1",
        _ => "SHA256",
    };

    /// <summary>x-amz-checksum-crc32 and so on.</summary>
    public static string HeaderName(ChecksumAlgorithm algorithm) => "x-amz-checksum-" + Name(algorithm).ToLowerInvariant();

    /// <summary>Reads "CRC32", "crc64nvme"... as in <c>x-amz-sdk-checksum-algorithm</c> and <c>x-amz-checksum-algorithm</c>.</summary>
    public static bool TryParseName(string? name, out ChecksumAlgorithm algorithm)
    {
        foreach (var candidate in Enum.GetValues<ChecksumAlgorithm>())
        {
            if (string.Equals(name, Name(candidate), StringComparison.OrdinalIgnoreCase))
            {
                algorithm = candidate;
                return true;
            }
        }
        algorithm = default;
        return false;
    }

    /// <summary>Reads "x-amz-checksum-crc32" and so on (any case); false for other names.</summary>
    public static bool TryParseHeaderName(string? name, out ChecksumAlgorithm algorithm)
    {
        algorithm = default;
        const string prefix = "x-amz-checksum-";
        return name is not null && name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && TryParseName(name[prefix.Length..], out algorithm);
    }

    /// <summary>Decodes a base64 value that has exactly the length of the algorithm's checksum.</summary>
    public static bool TryParseValue(ChecksumAlgorithm algorithm, string? base64, [NotNullWhen(true)] out byte[]? value)
    {
        value = null;
        int length = HashLength(algorithm);
        if (base64 is null || base64.Length != (length + 2) / 3 * 4)
            return false;
        byte[] bytes = new byte[length];
        if (!Convert.TryFromBase64String(base64, bytes, out int written) || written != length)
            return false;
        value = bytes;
        return true;
    }
}
