using System.IO.Hashing;

namespace OssOrleans.TestKit;

/// <summary>
/// CRC-64/XZ, which is what OSS calls crc64ecma (x-oss-hash-crc64ecma): polynomial 0x42F0E1EBA9EA3693,
/// reflected, initial value and final xor all ones. "123456789" gives 0x995DC9BBDF1939FA.
/// (System.IO.Hashing's default <see cref="Crc64"/> is CRC-64/ECMA-182 and gives 0x6C40DF5F0B497347.)
/// </summary>
public static class Crc64Xz
{
    /// <summary>The System.IO.Hashing parameter set for CRC-64/XZ.</summary>
    public static Crc64ParameterSet ParameterSet { get; } =
        Crc64ParameterSet.Create(0x42F0E1EBA9EA3693UL, ~0UL, ~0UL, true);

    /// <summary>A new incremental hasher.</summary>
    public static Crc64 Create() => new(ParameterSet);

    /// <summary>The CRC-64/XZ of <paramref name="data"/>.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        var crc = Create();
        crc.Append(data);
        return crc.GetCurrentHashAsUInt64();
    }
}
