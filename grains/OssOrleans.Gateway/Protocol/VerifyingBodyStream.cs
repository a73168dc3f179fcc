namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// A plain (not aws-chunked) request body: exactly Content-Length bytes, hashed as they pass against the signed
/// SHA-256, Content-MD5 and any <c>x-amz-checksum-*</c> header. Ending early is <c>IncompleteBody</c>; a wrong
/// SHA-256 is <c>XAmzContentSHA256Mismatch</c>; a wrong digest <c>BadDigest</c>. More bytes than Content-Length
/// cannot arrive: Kestrel frames the body by Content-Length.
/// </summary>
internal sealed class VerifyingBodyStream : S3BodyStream
{
    private readonly Stream _inner;
    private long _remaining;

    public VerifyingBodyStream(Stream inner, long contentLength, BodyChecks checks)
        : base(checks, contentLength)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(contentLength);
        _inner = inner;
        _remaining = contentLength;
    }

    public override int Read(Span<byte> buffer)
    {
        ThrowIfFailed();
        if (_remaining == 0)
        {
            Finish();
            return 0;
        }
        if (buffer.IsEmpty)
            return 0;
        int n = _inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        return Accept(buffer[..n]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        if (_remaining == 0)
        {
            Finish();
            return 0;
        }
        if (buffer.IsEmpty)
            return 0;
        int n = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        return Accept(buffer.Span[..n]);
    }

    private int Accept(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            throw Fail(S3Errors.IncompleteBody($"The body ended {_remaining} bytes before its Content-Length."));
        Checks.Append(data);
        _remaining -= data.Length;
        Delivered += data.Length;
        // Checked before the last bytes go out, so a consumer that reads exactly Content-Length bytes is covered.
        if (_remaining == 0)
            Finish();
        return data.Length;
    }

    private void Finish()
    {
        if (IsComplete)
            return;
        try
        {
            Checks.Verify();
        }
        catch (S3ProtocolException e)
        {
            throw Fail(e);
        }
        IsComplete = true;
    }
}
