using System.Security.Cryptography;
using System.Text;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

public class S3ChecksumTests
{
    private static readonly byte[] CheckInput = Encoding.ASCII.GetBytes("123456789");

    // The catalogued check values of each CRC ("123456789"), as S3 writes them: big-endian bytes in base64.
    [Theory]
    [InlineData("Crc32", "CBF43926")]
    [InlineData("Crc32C", "E3069283")]
    [InlineData("Crc64Nvme", "AE8B14860A799888")]
    public void GetCurrentHash_CheckInput_IsTheCataloguedCheckValueBigEndian(string algorithmName, string hex)
    {
        var algorithm = Enum.Parse<ChecksumAlgorithm>(algorithmName);
        using var checksum = S3Checksum.Create(algorithm);
        checksum.Append(CheckInput);

        Assert.Equal(hex, Convert.ToHexString(checksum.GetCurrentHash()));
        Assert.Equal(Convert.ToBase64String(Convert.FromHexString(hex)), checksum.GetCurrentBase64());
    }

    [Fact]
    public void GetCurrentBase64_Crc32OfCheckInput_IsWhatS3Sends()
    {
        using var checksum = S3Checksum.Create(ChecksumAlgorithm.Crc32);
        checksum.Append(CheckInput);

        Assert.Equal("y/Q5Jg==", checksum.GetCurrentBase64());
    }

    [Fact]
    public void GetCurrentBase64_Crc32cOfTheAwsTrailerExample_IsTheDocumentedValue()
    {
        using var checksum = S3Checksum.Create(ChecksumAlgorithm.Crc32C);
        checksum.Append(Enumerable.Repeat((byte)'a', 66560).ToArray());

        Assert.Equal("sOO8/Q==", checksum.GetCurrentBase64());
    }

    [Theory]
    [InlineData("Sha1")]
    [InlineData("Sha256")]
    public void GetCurrentHash_ShaAlgorithms_MatchTheFrameworkHash(string algorithmName)
    {
        var algorithm = Enum.Parse<ChecksumAlgorithm>(algorithmName);
        using var checksum = S3Checksum.Create(algorithm);
        checksum.Append(CheckInput);

        byte[] expected = algorithm == ChecksumAlgorithm.Sha1 ? SHA1.HashData(CheckInput) : SHA256.HashData(CheckInput);
        Assert.Equal(expected, checksum.GetCurrentHash());
    }

    [Theory]
    [InlineData("Crc32")]
    [InlineData("Crc32C")]
    [InlineData("Crc64Nvme")]
    [InlineData("Sha1")]
    [InlineData("Sha256")]
    public void Append_InPieces_EqualsAppendAtOnce(string algorithmName)
    {
        var algorithm = Enum.Parse<ChecksumAlgorithm>(algorithmName);
        byte[] data = AwsChunkedStreamTests.RandomBytes(10_000, seed: 5);
        using var whole = S3Checksum.Create(algorithm);
        whole.Append(data);
        using var pieces = S3Checksum.Create(algorithm);
        var random = new Random(6);
        for (int offset = 0; offset < data.Length;)
        {
            int n = Math.Min(random.Next(0, 700), data.Length - offset);
            pieces.Append(data.AsSpan(offset, n));
            offset += n;
        }

        Assert.Equal(whole.GetCurrentHash(), pieces.GetCurrentHash());
    }

    [Theory]
    [InlineData("x-amz-checksum-crc32", "Crc32")]
    [InlineData("X-Amz-Checksum-CRC32C", "Crc32C")]
    [InlineData("x-amz-checksum-crc64nvme", "Crc64Nvme")]
    [InlineData("x-amz-checksum-sha1", "Sha1")]
    [InlineData("x-amz-checksum-sha256", "Sha256")]
    public void TryParseHeaderName_KnownNames_RoundTrip(string name, string algorithmName)
    {
        var algorithm = Enum.Parse<ChecksumAlgorithm>(algorithmName);
        Assert.True(S3Checksum.TryParseHeaderName(name, out var parsed));
        Assert.Equal(algorithm, parsed);
        Assert.Equal(name.ToLowerInvariant(), S3Checksum.HeaderName(algorithm));
    }

    [Theory]
    [InlineData("x-amz-checksum-md5")]
    [InlineData("x-amz-checksum-")]
    [InlineData("x-amz-checksum-type")]
    [InlineData("content-md5")]
    [InlineData(null)]
    public void TryParseHeaderName_OtherNames_AreNotChecksums(string? name) => Assert.False(S3Checksum.TryParseHeaderName(name, out _));

    [Theory]
    [InlineData("Crc32", "y/Q5Jg==", true)]
    [InlineData("Crc32", "y/Q5Jg=", false)]
    [InlineData("Crc32", "y/Q5JgAA", false)]
    [InlineData("Crc32", "y/Q5Jg==AAAA", false)]
    [InlineData("Crc32", "****Jg==", false)]
    [InlineData("Crc64Nvme", "rosUhgp5mIg=", true)]
    [InlineData("Crc64Nvme", "y/Q5Jg==", false)]
    [InlineData("Sha256", "", false)]
    [InlineData("Sha256", null, false)]
    public void TryParseValue_OnlyBase64OfTheExactLength_IsAccepted(string algorithmName, string? value, bool accepted) =>
        Assert.Equal(accepted, S3Checksum.TryParseValue(Enum.Parse<ChecksumAlgorithm>(algorithmName), value, out _));
}
