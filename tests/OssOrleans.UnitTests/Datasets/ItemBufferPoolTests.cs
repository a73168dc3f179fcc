using OssOrleans.Client.Datasets;

namespace OssOrleans.UnitTests.Datasets;

public sealed class ItemBufferPoolTests
{
    [Fact]
    public void Rent_RoundsUpToAPowerOfTwo_AndAReturnedBufferIsRentedAgain()
    {
        var pool = new ItemBufferPool(1 << 20);
        var first = pool.Rent(5000);
        Assert.Equal(8192, first.Length);
        pool.Return(first);
        Assert.Equal(8192, pool.RetainedBytes);

        Assert.Same(first, pool.Rent(6000));
        Assert.Equal(0, pool.RetainedBytes);
        Assert.NotSame(first, pool.Rent(6000));
        Assert.Equal(4096, pool.Rent(1).Length);
        Assert.Empty(pool.Rent(0));
    }

    [Fact]
    public void Return_BeyondTheBound_IsDropped()
    {
        var pool = new ItemBufferPool(16 << 10);
        var buffers = Enumerable.Range(0, 3).Select(_ => pool.Rent(8 << 10)).ToList();
        foreach (var b in buffers)
            pool.Return(b);

        Assert.Equal(16 << 10, pool.RetainedBytes);
        Assert.Same(buffers[1], pool.Rent(8 << 10));
        Assert.Same(buffers[0], pool.Rent(8 << 10));
        Assert.NotSame(buffers[2], pool.Rent(8 << 10));
    }

    [Fact]
    public void Rent_LargerThanTheBound_IsExactAndNeverKept()
    {
        var pool = new ItemBufferPool(16 << 10);
        var big = pool.Rent(20_000);
        Assert.Equal(20_000, big.Length);
        pool.Return(big);
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void ZeroBytes_TurnsPoolingOff()
    {
        var pool = new ItemBufferPool(0);
        var b = pool.Rent(5000);
        Assert.Equal(5000, b.Length);
        pool.Return(pool.Rent(4096));
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void Return_ForeignBufferOfAnOddSize_IsIgnored()
    {
        var pool = new ItemBufferPool(1 << 20);
        pool.Return(new byte[5000]);
        Assert.Equal(0, pool.RetainedBytes);
    }
}
