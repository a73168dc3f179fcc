using System.Buffers;
using System.Collections.Concurrent;

namespace OssOrleans.Storage;

/// <summary>
/// A memory pool of large pinned blocks for Kestrel servers that receive bulk bodies (part uploads, the test origin).
/// Kestrel's own pool hands out 4 KiB blocks and its socket transport receives into one block per call, so an 8 MiB
/// part costs some 2,000 receive calls (4,000 with its zero-byte "wait for data" reads); with 64 KiB blocks it costs
/// about 130. Measured on a loopback upload at 500 MB/s, that was most of a core of system time.
/// </summary>
/// <remarks>Memory is bounded: at most <c>retained</c> free blocks are kept; blocks returned beyond that are left to the GC.</remarks>
public sealed class LargeBlockMemoryPool(int blockSize = LargeBlockMemoryPool.DefaultBlockSize, int retained = 256) : MemoryPool<byte>
{
    /// <summary>The default block size: 64 KiB, the size of one loopback TCP segment.</summary>
    public const int DefaultBlockSize = 64 * 1024;

    private readonly ConcurrentQueue<byte[]> _free = new();
    private int _freeCount;
    private bool _disposed;

    /// <inheritdoc />
    public override int MaxBufferSize => blockSize;

    /// <inheritdoc />
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, blockSize);
        if (_free.TryDequeue(out var block))
            Interlocked.Decrement(ref _freeCount);
        else
            block = GC.AllocateUninitializedArray<byte>(blockSize, pinned: true);
        return new Block(this, block);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(byte[] block)
    {
        if (_disposed || Interlocked.Increment(ref _freeCount) > retained)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Enqueue(block);
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            var a = Interlocked.Exchange(ref _array, null);
            if (a is not null)
                pool.Return(a);
        }
    }
}
