using System.IO.Hashing;

namespace OssOrleans.Checksums;

/// <summary>
/// CRC-64/XZ, the checksum OSS reports as <c>x-oss-hash-crc64ecma</c>: polynomial 0x42F0E1EBA9EA3693,
/// reflected, initial value and final xor all ones ("123456789" gives 0x995DC9BBDF1939FA).
/// This is not the default variant of <see cref="System.IO.Hashing.Crc64"/>.
/// </summary>
public static class Crc64Xz
{
    /// <summary>The CRC-64/XZ parameters for <see cref="System.IO.Hashing.Crc64"/>.</summary>
    public static Crc64ParameterSet Parameters { get; } = Crc64ParameterSet.Create(0x42F0E1EBA9EA3693, ~0UL, ~0UL, true);

    /// <summary>The CRC-64/XZ of <paramref name="data"/>. The CRC of no bytes is 0.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data) => Crc64.HashToUInt64(Parameters, data);

    /// <summary>An incremental CRC-64/XZ hasher: <c>Append</c> the bytes, then read <c>GetCurrentHashAsUInt64()</c>.</summary>
    public static Crc64 CreateHasher() => new(Parameters);

    /// <summary>
    /// The CRC-64/XZ of the concatenation A + B, from <paramref name="crcA"/> = CRC(A),
    /// <paramref name="crcB"/> = CRC(B) and <paramref name="lengthB"/> = the length of B in bytes.
    /// Lets shard CRCs be folded, in order, into the whole-object CRC.
    /// </summary>
    public static ulong Combine(ulong crcA, ulong crcB, long lengthB)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lengthB);
        // Because the initial value and the final xor are equal (all ones), they cancel out:
        // CRC(A + B) = Z(CRC(A)) xor CRC(B), where Z feeds lengthB zero bytes through the bare CRC register.
        // Z is linear over GF(2); ZeroBytePowers[k] is the 64x64 matrix for 2^k zero bytes.
        ulong crc = crcA;
        for (int k = 0; lengthB != 0; k++, lengthB >>= 1)
        {
            if ((lengthB & 1) != 0)
            {
                crc = Gf2Multiply(ZeroBytePowers[k], crc);
            }
        }
        return crc ^ crcB;
    }

    /// <summary>
    /// The CRC-64/XZ of B, from <paramref name="crcWhole"/> = CRC(A + B), <paramref name="crcA"/> = CRC(A) and
    /// <paramref name="lengthB"/>: the inverse of <see cref="Combine"/> for its second part. A server that checked a
    /// shard's bytes can so tell a reader of part of it the CRCs of the parts it does not send.
    /// </summary>
    public static ulong Remainder(ulong crcWhole, ulong crcA, long lengthB) => crcWhole ^ Combine(crcA, 0, lengthB);

    // The polynomial bit-reversed, as the reflected register shifts right.
    private const ulong ReflectedPolynomial = 0xC96C5795D7870F42;

    private static readonly ulong[][] ZeroBytePowers = BuildZeroBytePowers();

    private static ulong[][] BuildZeroBytePowers()
    {
        // One zero bit: the register shifts right by one; when the bit shifted out is set, xor the polynomial.
        // Column i of the matrix is the image of the register with only bit i set.
        var oneBit = new ulong[64];
        oneBit[0] = ReflectedPolynomial;
        for (int i = 1; i < 64; i++)
        {
            oneBit[i] = 1UL << (i - 1);
        }
        ulong[] twoBits = Gf2Square(oneBit);
        ulong[] fourBits = Gf2Square(twoBits);
        // 63 squarings cover every bit of a non-negative long.
        var powers = new ulong[63][];
        powers[0] = Gf2Square(fourBits);
        for (int k = 1; k < powers.Length; k++)
        {
            powers[k] = Gf2Square(powers[k - 1]);
        }
        return powers;
    }

    private static ulong Gf2Multiply(ulong[] matrix, ulong vector)
    {
        ulong sum = 0;
        for (int i = 0; vector != 0; i++, vector >>= 1)
        {
            if ((vector & 1) != 0)
            {
                sum ^= matrix[i];
            }
        }
        return sum;
    }

    private static ulong[] Gf2Square(ulong[] matrix)
    {
        var square = new ulong[64];
        for (int i = 0; i < 64; i++)
        {
            square[i] = Gf2Multiply(matrix, matrix[i]);
        }
        return square;
    }
}
