using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Storage;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Rent_GivesWholeBlocksWhateverTheSizeAsked()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 8192);
        using var a = pool.Rent(1);
        using var b = pool.Rent();
        Assert.Equal(8192, pool.MaxBufferSize);
        Assert.Equal(8192, a.Memory.Length);
        Assert.Equal(8192, b.Memory.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(8193));
    }

    [Fact]
    public void Return_ThenRent_ReusesTheBlock()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 4096);
        var first = pool.Rent();
        first.Memory.Span[0] = 42;
        var array = first.Memory;
        first.Dispose();
        first.Dispose(); // a second dispose must not return the block twice

        using var second = pool.Rent();
        using var third = pool.Rent();
        Assert.True(second.Memory.Span == array.Span || third.Memory.Span == array.Span);
        Assert.False(second.Memory.Span == third.Memory.Span);
    }

    [Fact]
    public void Return_BeyondRetained_LeavesBlocksToTheGc()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 4096, retained: 2);
        var owners = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        var arrays = owners.Select(o => o.Memory).ToList();
        owners.ForEach(o => o.Dispose());

        // Only two of the five come back from the pool; the rest are new blocks.
        var again = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        int reused = again.Count(o => arrays.Any(a => a.Span == o.Memory.Span));
        Assert.Equal(2, reused);
        again.ForEach(o => o.Dispose());
    }

    [Fact]
    public void Rent_AfterDispose_Throws()
    {
        var pool = new LargeBlockMemoryPool(blockSize: 4096);
        var owner = pool.Rent();
        pool.Dispose();
        owner.Dispose(); // returning into a disposed pool is harmless
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }
}
