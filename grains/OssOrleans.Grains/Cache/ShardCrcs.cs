using OssOrleans.Checksums;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Cache;

/// <summary>
/// The CRC-64s of a resident shard: of the whole, of each <see cref="BlockSize"/> block, and of every prefix that ends at
/// a block boundary, all from one pass over the bytes when they were loaded. A serve of part of the shard checks only the
/// blocks under it, and tells the reader the CRCs of the shard's bytes before and after the part (from these values, not
/// from another pass), so the reader can check the part it got against the shard's CRC end to end.
/// </summary>
internal sealed class ShardCrcs
{
    /// <summary>Bytes per block. 256 KiB: a tar member of 128 KiB is not charged for the whole 8 MiB shard.</summary>
    public const int BlockSize = 256 << 10;

    private ShardCrcs(ulong whole, int length, ulong[] blocks, ulong[] prefixes)
    {
        Whole = whole;
        Length = length;
        Blocks = blocks;
        Prefixes = prefixes;
    }

    public ulong Whole { get; }

    public int Length { get; }

    /// <summary>CRC of block b: bytes [b * BlockSize, min((b + 1) * BlockSize, Length)).</summary>
    public ulong[] Blocks { get; }

    /// <summary>CRC of bytes [0, b * BlockSize) for b = 0 .. Blocks.Length (so the last is <see cref="Whole"/>).</summary>
    public ulong[] Prefixes { get; }

    /// <summary>All CRCs of <paramref name="bytes"/> in one pass.</summary>
    public static ShardCrcs Compute(ReadOnlySpan<byte> bytes)
    {
        int count = Math.Max(1, (bytes.Length + BlockSize - 1) / BlockSize);
        var blocks = new ulong[count];
        var prefixes = new ulong[count + 1];
        for (int b = 0; b < count; b++)
        {
            int from = b * BlockSize, n = Math.Min(BlockSize, bytes.Length - from);
            blocks[b] = Crc64Xz.Compute(bytes.Slice(from, n));
            prefixes[b + 1] = b == 0 ? blocks[b] : Crc64Xz.Combine(prefixes[b], blocks[b], n);
        }
        return new ShardCrcs(prefixes[count], bytes.Length, blocks, prefixes);
    }

    /// <summary>
    /// Checks that bytes [offset, offset + length) of <paramref name="shard"/> (the resident bytes) still match the CRCs,
    /// reading only the blocks under the range, and gives the CRCs of the bytes before and after the range. False when a
    /// block no longer matches (a flipped bit: the shard must be dropped).
    /// </summary>
    public bool VerifyRange(ReadOnlySpan<byte> shard, int offset, int length, out ulong before, out ulong after)
    {
        (before, after) = (0, 0);
        int end = offset + length;
        if (length == 0)
        {
            // Nothing sent: the whole shard is "before" and nothing is checked.
            before = Crc64Xz.Compute(shard[..offset]);
            after = Crc64Xz.Remainder(Whole, before, Length - offset);
            return true;
        }
        int first = offset / BlockSize, last = (end - 1) / BlockSize;
        ulong head = 0, tail = 0;
        for (int b = first; b <= last; b++)
        {
            int from = b * BlockSize, to = Math.Min(from + BlockSize, Length);
            // The block in up to three pieces, split where the range starts and ends, so the pieces outside the range give
            // the before and after CRCs from the same read that checks the block.
            int cut1 = Math.Max(from, offset), cut2 = Math.Min(to, end);
            ulong p1 = Crc64Xz.Compute(shard[from..cut1]);
            ulong p2 = Crc64Xz.Compute(shard[cut1..cut2]);
            ulong p3 = Crc64Xz.Compute(shard[cut2..to]);
            ulong block = Crc64Xz.Combine(Crc64Xz.Combine(p1, p2, cut2 - cut1), p3, to - cut2);
            if (block != Blocks[b])
                return false;
            if (b == first)
                head = p1;
            if (b == last)
                tail = p3;
        }
        int firstFrom = first * BlockSize, lastTo = Math.Min((last + 1) * BlockSize, Length);
        before = Crc64Xz.Combine(Prefixes[first], head, offset - firstFrom);
        ulong rest = Crc64Xz.Remainder(Whole, Prefixes[last + 1], Length - lastTo);
        after = Crc64Xz.Combine(tail, rest, Length - lastTo);
        return true;
    }
}
