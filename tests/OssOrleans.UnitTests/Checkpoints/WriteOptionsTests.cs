using OssOrleans.Client;
using OssOrleans.Grains.Uploads;

namespace OssOrleans.UnitTests.Checkpoints;

public sealed class WriteOptionsTests
{
    [Theory]
    [InlineData(8 << 20, 1 << 20, 8 << 20)]
    [InlineData(1, 1 << 20, 5 << 20)]          // at least S3's smallest part
    [InlineData(5 << 20, 8 << 20, 8 << 20)]    // a multiple of the shard size
    [InlineData(8 << 20, 3 << 20, 9 << 20)]
    [InlineData(16 << 20, 8 << 20, 16 << 20)]
    public void EffectivePartSize_IsAtLeastFiveMiBAndAMultipleOfTheShardSize(int partSize, int shardSize, int expected)
    {
        // The upload grain decides (the client only asks), so every silo that takes a part agrees on its place.
        Assert.Equal(expected, UploadGrain.EffectivePartSize(partSize, shardSize));
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(8 << 20, 0)]
    [InlineData(8 << 20, 257)]
    public void Validate_OutOfRange_NamesTheOption(int partSize, int concurrency)
    {
        var ex = Assert.Throws<ArgumentException>(() => new WriteOptions { PartSize = partSize, UploadConcurrency = concurrency }.Validate());
        Assert.StartsWith("WriteOptions.", ex.Message, StringComparison.Ordinal);
    }
}
