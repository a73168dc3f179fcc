using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OssOrleans.Gateway.Protocol;

/// <summary>The arithmetic of SigV4 that request verification and chunk verification share.</summary>
internal static class SigV4Signing
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string ChunkAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD";
    public const string TrailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER";
    public const string Service = "s3";
    public const string Terminator = "aws4_request";

    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    public const string StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    public const string StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

    /// <summary>The SHA-256 of no bytes, in hex: the "previous data" of every chunk string to sign.</summary>
    public const string EmptySha256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public const int SignatureBytes = 32;

    /// <summary>The signing key: HMAC over date, region, service and terminator, seeded with "AWS4" + secret.</summary>
    public static byte[] DeriveSigningKey(string secret, string date, string region)
    {
        byte[] seed = Encoding.UTF8.GetBytes("AWS4" + secret);
        byte[] kDate = Hmac(seed, date);
        byte[] kRegion = Hmac(kDate, region);
        byte[] kService = Hmac(kRegion, Service);
        byte[] kSigning = Hmac(kService, Terminator);
        CryptographicOperations.ZeroMemory(seed);
        CryptographicOperations.ZeroMemory(kDate);
        CryptographicOperations.ZeroMemory(kRegion);
        CryptographicOperations.ZeroMemory(kService);
        return kSigning;
    }

    public static void Sign(ReadOnlySpan<byte> signingKey, string stringToSign, Span<byte> signature)
    {
        int length = Encoding.UTF8.GetByteCount(stringToSign);
        byte[] bytes = new byte[length];
        Encoding.UTF8.GetBytes(stringToSign, bytes);
        HMACSHA256.HashData(signingKey, bytes, signature);
    }

    /// <summary>True when <paramref name="providedHex"/> names the same 32 bytes as <paramref name="expected"/>, compared in constant time.</summary>
    public static bool SignatureEquals(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> provided) =>
        CryptographicOperations.FixedTimeEquals(expected, provided);

    /// <summary>Parses a signature or digest: exactly 64 hex digits, either case.</summary>
    public static bool TryParseHex32(ReadOnlySpan<char> hex, Span<byte> bytes)
    {
        if (hex.Length != 64)
            return false;
        foreach (char c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
                return false;
        }
        return Convert.FromHexString(hex, bytes, out _, out int written) == System.Buffers.OperationStatus.Done && written == 32;
    }

    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string RequestStringToSign(string amzDate, string scope, string canonicalRequest) =>
        $"{Algorithm}\n{amzDate}\n{scope}\n{Sha256Hex(canonicalRequest)}";

    /// <summary>The string to sign of one aws-chunked chunk (AWS: "Signature Calculations for ... Chunked Upload").</summary>
    public static string ChunkStringToSign(string amzDate, string scope, string previousSignatureHex, string chunkSha256Hex) =>
        $"{ChunkAlgorithm}\n{amzDate}\n{scope}\n{previousSignatureHex}\n{EmptySha256Hex}\n{chunkSha256Hex}";

    /// <summary>The string to sign of the trailing headers, chained on the final chunk's signature.</summary>
    public static string TrailerStringToSign(string amzDate, string scope, string previousSignatureHex, string trailerSha256Hex) =>
        $"{TrailerAlgorithm}\n{amzDate}\n{scope}\n{previousSignatureHex}\n{trailerSha256Hex}";

    /// <summary>
    /// Reads an <c>x-amz-content-sha256</c> value: one of the four literals, or 64 hex digits (then
    /// <paramref name="sha256"/> holds the 32 bytes).
    /// </summary>
    public static bool TryParsePayloadHash(string? value, out PayloadMode mode, out byte[]? sha256)
    {
        sha256 = null;
        mode = value switch
        {
            UnsignedPayload => PayloadMode.Unsigned,
            StreamingSigned => PayloadMode.StreamingSigned,
            StreamingSignedTrailer => PayloadMode.StreamingSignedTrailer,
            StreamingUnsignedTrailer => PayloadMode.StreamingUnsignedTrailer,
            _ => PayloadMode.Sha256,
        };
        if (mode != PayloadMode.Sha256)
            return true;
        byte[] bytes = new byte[32];
        if (!TryParseHex32(value, bytes))
            return false;
        sha256 = bytes;
        return true;
    }

    /// <summary>Parses SigV4's ISO-8601 basic time, "yyyyMMdd'T'HHmmss'Z'", and nothing else.</summary>
    public static bool TryParseAmzDate(string? value, out DateTimeOffset time)
    {
        time = default;
        return value is { Length: 16 }
            && DateTimeOffset.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    public static string FormatAmzDate(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
}
