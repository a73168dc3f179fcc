using System.Collections.Concurrent;
using System.Numerics;

namespace OssOrleans.Client.Datasets;

/// <summary>
/// Buffers of dataset items, reused once their consumer disposes the item. Without it every sample of 128 KiB is a new
/// large-object-heap array, and the page faults of that fresh memory were a third of the client's CPU in a cached tar
/// epoch (perf, tar-dataset benchmark). Holds at most <c>maxBytes</c> of returned buffers; pooled sizes are powers of
/// two from 4 KiB, so an item's buffer may be up to twice its size. <c>maxBytes</c> 0 turns pooling off.
/// </summary>
internal sealed class ItemBufferPool(long maxBytes)
{
    private const int MinPooledSize = 4096;

    // Index: log2 of the buffer size.
    private readonly ConcurrentStack<byte[]>[] _free = [.. Enumerable.Range(0, 31).Select(_ => new ConcurrentStack<byte[]>())];
    private long _retained;

    /// <summary>Bytes of returned buffers waiting to be reused (tests).</summary>
    internal long RetainedBytes => Volatile.Read(ref _retained);

    /// <summary>A buffer of at least <paramref name="length"/> bytes, contents undefined.</summary>
    public byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
            return [];
        if (!IsPooledLength(length, out int size))
            return GC.AllocateUninitializedArray<byte>(length);
        if (_free[BitOperations.Log2((uint)size)].TryPop(out var buffer))
        {
            Interlocked.Add(ref _retained, -buffer.Length);
            return buffer;
        }
        return GC.AllocateUninitializedArray<byte>(size);
    }

    /// <summary>Keeps <paramref name="buffer"/> for a later <see cref="Rent"/> while the pool is under its bound.</summary>
    public void Return(byte[] buffer)
    {
        if (!BitOperations.IsPow2(buffer.Length) || !IsPooledLength(buffer.Length, out _))
            return;
        if (Interlocked.Add(ref _retained, buffer.Length) > maxBytes)
        {
            Interlocked.Add(ref _retained, -buffer.Length);
            return;
        }
        _free[BitOperations.Log2((uint)buffer.Length)].Push(buffer);
    }

    private bool IsPooledLength(int length, out int size)
    {
        size = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, MinPooledSize)), 1u << 30);
        return maxBytes > 0 && size >= length && size <= maxBytes;
    }
}
