using OssOrleans.Checksums;
using OssOrleans.Grains.Cache;

namespace OssOrleans.UnitTests.Cache;

public sealed class ShardCrcsTests
{
    [Fact]
    public void VerifyRange_RandomRanges_GiveTheCrcsOfTheBytesBeforeAndAfter()
    {
        var random = new Random(11);
        foreach (int size in new[] { 1, 100, ShardCrcs.BlockSize - 1, ShardCrcs.BlockSize, ShardCrcs.BlockSize + 1, 3 * ShardCrcs.BlockSize + 777 })
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            var crcs = ShardCrcs.Compute(bytes);
            Assert.Equal(Crc64Xz.Compute(bytes), crcs.Whole);
            for (int trial = 0; trial < 40; trial++)
            {
                int a = random.Next(size + 1), b = random.Next(a, size + 1);
                Assert.True(crcs.VerifyRange(bytes, a, b - a, out ulong before, out ulong after));
                Assert.Equal(Crc64Xz.Compute(bytes.AsSpan(0, a)), before);
                Assert.Equal(Crc64Xz.Compute(bytes.AsSpan(b)), after);
                // What a reader does with them: before + its bytes + after must be the shard's CRC.
                ulong upToEnd = Crc64Xz.Combine(before, Crc64Xz.Compute(bytes.AsSpan(a, b - a)), b - a);
                Assert.Equal(crcs.Whole, Crc64Xz.Combine(upToEnd, after, size - b));
            }
        }
    }

    [Fact]
    public void VerifyRange_DamagedByteUnderTheRange_Fails_AndOutsideItsBlocks_IsNotCharged()
    {
        var bytes = new byte[4 * ShardCrcs.BlockSize];
        new Random(5).NextBytes(bytes);
        var crcs = ShardCrcs.Compute(bytes);
        bytes[3 * ShardCrcs.BlockSize + 9] ^= 0x40;
        Assert.False(crcs.VerifyRange(bytes, 3 * ShardCrcs.BlockSize, 10, out _, out _));
        // The damaged byte's block is read even when the range ends before the byte: the whole block is checked.
        Assert.False(crcs.VerifyRange(bytes, 3 * ShardCrcs.BlockSize, 5, out _, out _));
        Assert.True(crcs.VerifyRange(bytes, 0, 2 * ShardCrcs.BlockSize, out _, out _));
    }

    [Fact]
    public void Remainder_UndoesCombine()
    {
        var random = new Random(2);
        var a = new byte[1000];
        var b = new byte[3333];
        random.NextBytes(a);
        random.NextBytes(b);
        ulong whole = Crc64Xz.Compute([.. a, .. b]);
        Assert.Equal(Crc64Xz.Compute(b), Crc64Xz.Remainder(whole, Crc64Xz.Compute(a), b.Length));
    }
}
