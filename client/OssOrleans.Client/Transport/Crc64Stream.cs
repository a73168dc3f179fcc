using System.IO.Hashing;
using OssOrleans.Checksums;

namespace OssOrleans.Client.Transport;

/// <summary>
/// A read-only pass-through that computes the CRC-64/XZ of every byte read through it (OSS's crc64ecma, the cluster's
/// shard CRC), straight from the reader's own buffer: no copy, one pass over bytes that are in cache anyway.
/// </summary>
internal sealed class Crc64Stream(Stream inner) : ReadOnlyStream
{
    private readonly Crc64 _crc = Crc64Xz.CreateHasher();

    public long BytesRead { get; private set; }

    public ulong Crc => _crc.GetCurrentHashAsUInt64();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _crc.Append(buffer.Span[..n]);
        BytesRead += n;
        return n;
    }
}
