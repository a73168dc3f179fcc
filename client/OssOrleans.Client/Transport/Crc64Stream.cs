using System.IO.Hashing;
using OssOrleans.Checksums;

namespace OssOrleans.Client.Transport;

/// <summary>
/// A read-only pass-through that computes the CRC-64/XZ of every byte read through it (OSS's crc64ecma, the cluster's
/// shard CRC), straight from the reader's own buffer: no copy, one pass over bytes that are in cache anyway.
/// </summary>
internal sealed class Crc64Stream(Stream inner) : Stream
{
    private readonly Crc64 _crc = Crc64Xz.CreateHasher();

    public long BytesRead { get; private set; }

    public ulong Crc => _crc.GetCurrentHashAsUInt64();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _crc.Append(buffer.Span[..n]);
        BytesRead += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
