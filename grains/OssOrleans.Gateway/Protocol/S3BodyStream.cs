namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// A request body as the client meant it, checked while it is read: read-only, forward-only, and failing with an
/// <see cref="S3ProtocolException"/> the moment the bytes stop matching what the request declared. The checks that
/// need the whole body run before the last byte is handed out, so a consumer that reads exactly
/// <see cref="DecodedLength"/> bytes has had every check; nothing read may be committed before that (bytes of an
/// aws-chunked chunk are handed out before its signature is checked). A failure is sticky: later reads throw it again.
/// The inner stream is not owned (it is the server's request body).
/// </summary>
internal abstract class S3BodyStream : Stream
{
    private S3ProtocolException? _failure;

    private protected S3BodyStream(BodyChecks checks, long decodedLength)
    {
        Checks = checks;
        DecodedLength = decodedLength;
    }

    /// <summary>The number of bytes the body carries once decoded: Content-Length, or x-amz-decoded-content-length.</summary>
    public long DecodedLength { get; }

    /// <summary>The additional checksum verified on the body, if the request declared one.</summary>
    public ChecksumAlgorithm? ChecksumAlgorithm => Checks.ChecksumAlgorithm;

    /// <summary>Its value (base64, as S3 answers it in <c>x-amz-checksum-*</c>), once <see cref="IsComplete"/>.</summary>
    public string? ChecksumBase64 => Checks.ChecksumBase64;

    /// <summary>True once every byte was read and every check passed.</summary>
    public bool IsComplete { get; private protected set; }

    private protected BodyChecks Checks { get; }

    private protected long Delivered { get; set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => DecodedLength;

    public override long Position
    {
        get => Delivered;
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// For a consumer that stops after <see cref="DecodedLength"/> bytes without reading the end (or an empty body it
    /// never reads): reads what framing remains and runs the final checks. Throws <see cref="InvalidOperationException"/>
    /// if body bytes were left unread.
    /// </summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (IsComplete)
            return;
        if (Delivered < DecodedLength)
            throw new InvalidOperationException($"{DecodedLength - Delivered} body bytes were not read");
        byte[] probe = new byte[1];
        if (await ReadAsync(probe, cancellationToken).ConfigureAwait(false) != 0)
            throw new InvalidOperationException("the body carried more bytes than it declared");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            Checks.Dispose();
        base.Dispose(disposing);
    }

    private protected void ThrowIfFailed()
    {
        if (_failure is not null)
            throw new S3ProtocolException(_failure.Error);
    }

    private protected S3ProtocolException Fail(S3ProtocolException failure)
    {
        _failure ??= failure;
        return failure;
    }

    private protected S3ProtocolException Fail(S3Error error) => Fail(error.ToException());
}
