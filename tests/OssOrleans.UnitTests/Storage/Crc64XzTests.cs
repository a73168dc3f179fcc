using OssOrleans.Checksums;
using System.Text;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Storage;

public class Crc64XzTests
{
    [Fact]
    public void Compute_CheckString_IsCrc64XzCheckValue()
    {
        Assert.Equal(0x995DC9BBDF1939FAUL, Crc64Xz.Compute("123456789"u8));
    }

    [Fact]
    public void Compute_NoBytes_IsZero()
    {
        Assert.Equal(0UL, Crc64Xz.Compute([]));
    }

    [Fact]
    public void CreateHasher_AppendInPieces_EqualsOneShot()
    {
        byte[] data = RandomBytes(new Random(7), 10_000);
        var hasher = Crc64Xz.CreateHasher();
        hasher.Append(data.AsSpan(0, 1));
        hasher.Append(data.AsSpan(1, 4095));
        hasher.Append(data.AsSpan(4096));
        Assert.Equal(Crc64Xz.Compute(data), hasher.GetCurrentHashAsUInt64());
    }

    [Fact]
    public void Combine_RandomSplits_EqualsCrcOfWhole()
    {
        var random = new Random(12345);
        for (int i = 0; i < 300; i++)
        {
            byte[] whole = RandomBytes(random, random.Next(0, 5000));
            int split = random.Next(0, whole.Length + 1);
            ulong a = Crc64Xz.Compute(whole.AsSpan(0, split));
            ulong b = Crc64Xz.Compute(whole.AsSpan(split));
            Assert.Equal(Crc64Xz.Compute(whole), Crc64Xz.Combine(a, b, whole.Length - split));
        }
    }

    [Fact]
    public void Combine_FoldShardsInOrder_EqualsWholeObjectCrc()
    {
        byte[] whole = RandomBytes(new Random(99), 1_000_003);
        const int shard = 65_536;
        ulong combined = 0;
        for (int offset = 0; offset < whole.Length; offset += shard)
        {
            int length = Math.Min(shard, whole.Length - offset);
            combined = Crc64Xz.Combine(combined, Crc64Xz.Compute(whole.AsSpan(offset, length)), length);
        }
        Assert.Equal(Crc64Xz.Compute(whole), combined);
    }

    [Fact]
    public void Combine_CheckStringSplit_GivesCheckValue()
    {
        byte[] check = Encoding.ASCII.GetBytes("123456789");
        ulong combined = Crc64Xz.Combine(Crc64Xz.Compute(check.AsSpan(0, 4)), Crc64Xz.Compute(check.AsSpan(4)), 5);
        Assert.Equal(0x995DC9BBDF1939FAUL, combined);
    }

    [Fact]
    public void Combine_NegativeLength_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Crc64Xz.Combine(1, 2, -1));
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
