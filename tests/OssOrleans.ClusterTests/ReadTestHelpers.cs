using System.Security.Cryptography;

namespace OssOrleans.ClusterTests;

internal static class ReadTestHelpers
{
    /// <summary>Reads a stream to its end in chunks of <paramref name="chunk"/> bytes and returns the SHA-256 of what it read.</summary>
    public static async Task<(byte[] Hash, long Length)> HashToEndAsync(Stream stream, int chunk = 1 << 20)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[chunk];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        return (sha.GetHashAndReset(), total);
    }

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms);
        return ms.ToArray();
    }
}
