using System.Security.Cryptography;
using System.Text;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// Writes aws-chunked bodies the way AWS's pages describe them, signing chunks with HMAC-SHA256 here (not with the
/// gateway's code), for tests that need bodies the documented examples do not cover.
/// </summary>
internal static class ChunkedBodyBuilder
{
    public static SigV4Authentication ExampleAuthentication(PayloadMode mode, string seedSignature) =>
        new(AwsExamples.AccessKeyId, "us-east-1", AwsExamples.AmzDate, AwsExamples.Time, isPresigned: false, mode, payloadSha256: null,
            SigV4Signing.DeriveSigningKey(AwsExamples.Secret, "20130524", "us-east-1"), seedSignature, ["host"]);

    public static byte[] Signed(byte[] data, int chunkSize, SigV4Authentication auth, (string Name, string Value)? trailer = null)
    {
        var output = new MemoryStream();
        string previous = auth.SeedSignature;
        byte[] key = auth.SigningKey.ToArray();
        foreach (var chunk in Chunks(data, chunkSize).Append(ReadOnlyMemory<byte>.Empty))
        {
            string stringToSign = $"AWS4-HMAC-SHA256-PAYLOAD\n{auth.AmzDate}\n{auth.Scope}\n{previous}\n{AwsExamples.EmptySha256}\n{Convert.ToHexStringLower(SHA256.HashData(chunk.Span))}";
            previous = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
            Write(output, $"{chunk.Length:x};chunk-signature={previous}\r\n");
            if (!chunk.IsEmpty)
            {
                output.Write(chunk.Span);
                Write(output, "\r\n");
            }
        }
        if (trailer is { } t)
        {
            string canonical = $"{t.Name}:{t.Value}\n";
            string stringToSign = $"AWS4-HMAC-SHA256-TRAILER\n{auth.AmzDate}\n{auth.Scope}\n{previous}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
            string signature = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
            Write(output, $"{t.Name}:{t.Value}\r\nx-amz-trailer-signature:{signature}\r\n");
        }
        Write(output, "\r\n");
        return output.ToArray();
    }

    public static byte[] Unsigned(byte[] data, int chunkSize, (string Name, string Value)? trailer = null)
    {
        var output = new MemoryStream();
        foreach (var chunk in Chunks(data, chunkSize))
        {
            Write(output, $"{chunk.Length:x}\r\n");
            output.Write(chunk.Span);
            Write(output, "\r\n");
        }
        Write(output, "0\r\n");
        if (trailer is { } t)
            Write(output, $"{t.Name}:{t.Value}\r\n");
        Write(output, "\r\n");
        return output.ToArray();
    }

    public static string Crc32Base64(byte[] data)
    {
        using var checksum = S3Checksum.Create(ChecksumAlgorithm.Crc32);
        checksum.Append(data);
        return checksum.GetCurrentBase64();
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] data, int chunkSize)
    {
        for (int offset = 0; offset < data.Length; offset += chunkSize)
            yield return data.AsMemory(offset, Math.Min(chunkSize, data.Length - offset));
    }

    private static void Write(Stream output, string text) => output.Write(Encoding.ASCII.GetBytes(text));
}
