using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Decodes an aws-chunked body (<c>Content-Encoding: aws-chunked</c>) into the object's bytes, checking it on the way:
/// <code>
/// hex-size[;chunk-signature=64hex]\r\n  data  \r\n      (each chunk; all but the last at least 8 KiB)
/// 0[;chunk-signature=64hex]\r\n                         (the final chunk)
/// [name:value\r\n]...                                   (trailers: checksums declared in x-amz-trailer,
/// [x-amz-trailer-signature:64hex\r\n]                    then the trailer signature in the signed-trailer mode)
/// \r\n
/// </code>
/// In the signed modes each chunk's signature is an HMAC over <see cref="SigV4Signing.ChunkStringToSign"/>, chained
/// from the request's seed signature, and checked as the chunk's last byte arrives (before that byte is handed out);
/// the trailer signature chains from the final chunk's. The sum of the chunk sizes must be
/// <c>x-amz-decoded-content-length</c>. Memory is one pooled buffer of <see cref="BufferSize"/> bytes whatever the
/// chunk size: data passes through to the caller's buffer, straight from the inner stream when nothing is buffered.
/// Framing lines are bounded (<see cref="MaxLineLength"/>), and so is the number of trailer lines.
/// </summary>
internal sealed class AwsChunkedStream : S3BodyStream
{
    /// <summary>S3's smallest chunk but the last ("Only the last chunk is allowed to have a size less than 8192 bytes").</summary>
    public const int MinChunkSize = 8192;

    /// <summary>A chunk header is at most 97 bytes (16 hex digits, ";chunk-signature=", 64 hex) and a checksum trailer under 80.</summary>
    public const int MaxLineLength = 256;

    public const int BufferSize = 8192;

    private const int MaxTrailerLines = 8;
    private const string TrailerSignatureName = "x-amz-trailer-signature";

    private readonly Stream _inner;
    private readonly PayloadMode _mode;
    private readonly SigV4Authentication? _auth;
    private readonly string? _declaredTrailer;
    private readonly IncrementalHash? _chunkHash;
    private readonly byte[] _chunkSignature = new byte[SigV4Signing.SignatureBytes];
    private readonly StringBuilder? _canonicalTrailer;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private State _state = State.ChunkHeader;
    private Need _need;
    private long _decodedRemaining;
    private long _chunkRemaining;
    private long _lastChunkSize = -1;
    private string? _previousSignature;
    private int _trailerLines;
    private bool _trailerSeen;
    private bool _trailerSigned;

    /// <param name="inner">The request body as received (HTTP framing already removed).</param>
    /// <param name="decodedLength">x-amz-decoded-content-length.</param>
    /// <param name="mode">One of the three streaming modes.</param>
    /// <param name="auth">The request's authentication: required for the signed modes (key, scope, seed signature).</param>
    /// <param name="declaredTrailer">The trailer named by x-amz-trailer (lower case), or null.</param>
    /// <param name="checks">What the decoded bytes are checked against; a declared trailer checksum sets its expected value.</param>
    /// <param name="verifySignatures">
    /// False only where no signature can be checked (an anonymous gateway has no secrets): signed framing is still parsed
    /// strictly, but chunk and trailer signatures are not verified, and <paramref name="auth"/> may be null.
    /// </param>
    public AwsChunkedStream(Stream inner, long decodedLength, PayloadMode mode, SigV4Authentication? auth, string? declaredTrailer, BodyChecks checks,
        bool verifySignatures = true)
        : base(checks, decodedLength)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(decodedLength);
        if (mode is not (PayloadMode.StreamingSigned or PayloadMode.StreamingSignedTrailer or PayloadMode.StreamingUnsignedTrailer))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "not an aws-chunked mode");
        if (Signed(mode) && verifySignatures)
        {
            _auth = auth ?? throw new ArgumentNullException(nameof(auth), "signed chunks need the request's signing key");
            _chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            _previousSignature = auth.SeedSignature;
        }
        if (mode == PayloadMode.StreamingSignedTrailer && _auth is not null)
            _canonicalTrailer = new StringBuilder(128);
        if (declaredTrailer is not null && mode == PayloadMode.StreamingSigned)
            throw new ArgumentException("STREAMING-AWS4-HMAC-SHA256-PAYLOAD carries no trailer", nameof(declaredTrailer));
        _inner = inner;
        _mode = mode;
        _declaredTrailer = declaredTrailer;
        _decodedRemaining = decodedLength;
        _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    }

    private enum State
    {
        ChunkHeader,
        ChunkData,
        ChunkDataEnd,
        Trailer,
        ExpectEnd,
        Done,
    }

    private enum Need
    {
        None,
        Input,
        DirectData,
        EndOfInput,
    }

    public override int Read(Span<byte> destination)
    {
        ThrowIfFailed();
        if (destination.IsEmpty)
            return 0;
        try
        {
            int produced = 0;
            while (true)
            {
                Advance(destination, ref produced);
                switch (_need)
                {
                    case Need.None:
                        return produced;
                    case Need.Input:
                        Compact();
                        OnInput(_inner.Read(Buffer.AsSpan(_end)));
                        break;
                    case Need.DirectData:
                        var target = destination.Slice(produced, DirectLength(destination.Length - produced));
                        int n = _inner.Read(target);
                        OnData(target[..n], ref produced);
                        break;
                    case Need.EndOfInput:
                        OnEndProbe(_inner.Read(Buffer.AsSpan(0, 1)));
                        break;
                }
            }
        }
        catch (S3ProtocolException e)
        {
            throw Fail(e);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        if (destination.IsEmpty)
            return 0;
        try
        {
            int produced = 0;
            while (true)
            {
                Advance(destination.Span, ref produced);
                switch (_need)
                {
                    case Need.None:
                        return produced;
                    case Need.Input:
                        Compact();
                        OnInput(await _inner.ReadAsync(Buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false));
                        break;
                    case Need.DirectData:
                        var target = destination.Slice(produced, DirectLength(destination.Length - produced));
                        int n = await _inner.ReadAsync(target, cancellationToken).ConfigureAwait(false);
                        OnData(target.Span[..n], ref produced);
                        break;
                    case Need.EndOfInput:
                        OnEndProbe(await _inner.ReadAsync(Buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false));
                        break;
                }
            }
        }
        catch (S3ProtocolException e)
        {
            throw Fail(e);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _chunkHash?.Dispose();
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
        }
        base.Dispose(disposing);
    }

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(AwsChunkedStream));

    private static bool Signed(PayloadMode mode) => mode is PayloadMode.StreamingSigned or PayloadMode.StreamingSignedTrailer;

    /// <summary>
    /// Moves the state machine as far as the buffered bytes allow, copying chunk data into
    /// <paramref name="destination"/> from <paramref name="produced"/> on, and sets <see cref="_need"/> to what it
    /// waits for. Once data has been produced it stops rather than wait for input, unless the data was the body's
    /// last: then it goes on through the final chunk and trailer, so every check has passed before those bytes return.
    /// </summary>
    private void Advance(Span<byte> destination, ref int produced)
    {
        while (true)
        {
            bool mayWait = produced == 0 || _decodedRemaining == 0;
            switch (_state)
            {
                case State.ChunkHeader:
                    if (!TryTakeLine(out var header))
                    {
                        _need = mayWait ? Need.Input : Need.None;
                        return;
                    }
                    OnChunkHeader(header);
                    break;

                case State.ChunkData:
                    if (produced == destination.Length)
                    {
                        _need = Need.None;
                        return;
                    }
                    int buffered = _end - _start;
                    if (buffered == 0)
                    {
                        _need = produced == 0 ? Need.DirectData : Need.None;
                        return;
                    }
                    int n = (int)Math.Min(Math.Min(buffered, destination.Length - produced), _chunkRemaining);
                    var target = destination.Slice(produced, n);
                    Buffer.AsSpan(_start, n).CopyTo(target);
                    _start += n;
                    OnData(target, ref produced);
                    break;

                case State.ChunkDataEnd:
                    if (_end - _start < 2)
                    {
                        _need = mayWait ? Need.Input : Need.None;
                        return;
                    }
                    if (Buffer[_start] != '\r' || Buffer[_start + 1] != '\n')
                        throw Malformed("A chunk's data is not followed by CRLF: the chunk is longer than its size says.");
                    _start += 2;
                    _state = State.ChunkHeader;
                    break;

                case State.Trailer:
                    if (!TryTakeLine(out var line))
                    {
                        _need = Need.Input;
                        return;
                    }
                    if (line.IsEmpty)
                        OnTrailerEnd();
                    else
                        OnTrailerLine(line);
                    break;

                case State.ExpectEnd:
                    if (_end > _start)
                        throw Malformed("The body carries data after the end of its aws-chunked encoding.");
                    _need = Need.EndOfInput;
                    return;

                case State.Done:
                    _need = Need.None;
                    return;
            }
        }
    }

    private int DirectLength(int room) => (int)Math.Min(room, _chunkRemaining);

    /// <summary>Takes chunk data already in the caller's buffer: hashes it and closes the chunk when it is complete.</summary>
    private void OnData(Span<byte> data, ref int produced)
    {
        if (data.IsEmpty)
            throw Truncated();
        _chunkHash?.AppendData(data);
        Checks.Append(data);
        _chunkRemaining -= data.Length;
        _decodedRemaining -= data.Length;
        Delivered += data.Length;
        produced += data.Length;
        if (_chunkRemaining == 0)
        {
            if (_chunkHash is not null)
                VerifyChunkSignature(_chunkHash.GetHashAndReset());
            _state = State.ChunkDataEnd;
        }
    }

    private void OnInput(int read)
    {
        if (read == 0)
            throw Truncated();
        _end += read;
    }

    private void OnEndProbe(int read)
    {
        if (read != 0)
            throw Malformed("The body carries data after the end of its aws-chunked encoding.");
        _state = State.Done;
        IsComplete = true;
    }

    private void OnChunkHeader(ReadOnlySpan<byte> line)
    {
        int semicolon = line.IndexOf((byte)';');
        var sizeText = semicolon < 0 ? line : line[..semicolon];
        if (sizeText.IsEmpty || sizeText.Length > 16)
            throw Malformed("A chunk size is not 1 to 16 hexadecimal digits.");
        long size = 0;
        foreach (byte b in sizeText)
        {
            int digit = HexValue(b);
            if (digit < 0)
                throw Malformed("A chunk size is not hexadecimal.");
            if (size > (long.MaxValue >> 4))
                throw Malformed("A chunk size is out of range.");
            size = (size << 4) | (uint)digit;
        }

        if (Signed(_mode))
        {
            var prefix = ";chunk-signature="u8;
            var extension = semicolon < 0 ? default : line[semicolon..];
            if (extension.Length != prefix.Length + 64 || !extension.StartsWith(prefix)
                || !TryParseHex32(extension[prefix.Length..], _chunkSignature))
            {
                throw Malformed("A signed chunk must carry exactly ';chunk-signature=' and 64 hexadecimal digits.");
            }
        }
        else if (semicolon >= 0)
        {
            throw Malformed("An unsigned chunk carries an extension.");
        }

        if (size == 0)
        {
            if (_decodedRemaining != 0)
                throw Truncated($"The chunks ended {_decodedRemaining} bytes short of x-amz-decoded-content-length.");
            if (_chunkHash is not null)
                VerifyChunkSignature(SHA256.HashData(ReadOnlySpan<byte>.Empty));
            _state = State.Trailer;
            return;
        }
        if (_lastChunkSize is >= 0 and < MinChunkSize)
            throw S3Errors.InvalidChunkSize().ToException();
        if (size > _decodedRemaining)
            throw S3Errors.IncompleteBody("The chunks carry more bytes than x-amz-decoded-content-length.").ToException();
        _lastChunkSize = size;
        _chunkRemaining = size;
        _state = State.ChunkData;
    }

    private void VerifyChunkSignature(ReadOnlySpan<byte> chunkSha256)
    {
        string stringToSign = SigV4Signing.ChunkStringToSign(_auth!.AmzDate, _auth.Scope, _previousSignature!, Convert.ToHexStringLower(chunkSha256));
        Span<byte> expected = stackalloc byte[SigV4Signing.SignatureBytes];
        SigV4Signing.Sign(_auth.SigningKey, stringToSign, expected);
        if (!SigV4Signing.SignatureEquals(expected, _chunkSignature))
            throw S3Errors.SignatureDoesNotMatch("The chunk signature we calculated does not match the signature you provided.").ToException();
        _previousSignature = Convert.ToHexStringLower(_chunkSignature);
    }

    private void OnTrailerLine(ReadOnlySpan<byte> line)
    {
        if (++_trailerLines > MaxTrailerLines)
            throw S3Errors.MalformedTrailer("Too many trailing headers.").ToException();
        if (_trailerSigned)
            throw S3Errors.MalformedTrailer("x-amz-trailer-signature must be the last trailing header.").ToException();
        int colon = line.IndexOf((byte)':');
        if (colon <= 0 || line.IndexOfAnyExceptInRange((byte)' ', (byte)'~') >= 0)
            throw S3Errors.MalformedTrailer().ToException();
        string name = Encoding.ASCII.GetString(line[..colon]).ToLowerInvariant();
        string value = Encoding.ASCII.GetString(line[(colon + 1)..]).Trim(' ', '\t');

        if (name == TrailerSignatureName)
        {
            if (_mode != PayloadMode.StreamingSignedTrailer)
                throw S3Errors.MalformedTrailer("x-amz-trailer-signature is only sent with STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.").ToException();
            Span<byte> provided = stackalloc byte[SigV4Signing.SignatureBytes];
            if (!SigV4Signing.TryParseHex32(value, provided))
                throw S3Errors.MalformedTrailer("x-amz-trailer-signature must be 64 hexadecimal digits.").ToException();
            if (_auth is null)
            {
                // Not verifying (see the constructor): the framing was right, which is all that can be said.
                _trailerSigned = true;
                return;
            }
            string trailerHash = SigV4Signing.Sha256Hex(_canonicalTrailer!.ToString());
            string stringToSign = SigV4Signing.TrailerStringToSign(_auth!.AmzDate, _auth.Scope, _previousSignature!, trailerHash);
            Span<byte> expected = stackalloc byte[SigV4Signing.SignatureBytes];
            SigV4Signing.Sign(_auth.SigningKey, stringToSign, expected);
            if (!SigV4Signing.SignatureEquals(expected, provided))
                throw S3Errors.SignatureDoesNotMatch("The trailer signature we calculated does not match the signature you provided.").ToException();
            _trailerSigned = true;
            return;
        }

        if (name != _declaredTrailer || _trailerSeen)
            throw S3Errors.MalformedTrailer($"The trailing header '{(name.Length <= 64 ? name : "(not shown)")}' was not declared in x-amz-trailer, or came twice.").ToException();
        _trailerSeen = true;
        _canonicalTrailer?.Append(name).Append(':').Append(value).Append('\n');
        if (S3Checksum.TryParseHeaderName(name, out var algorithm))
        {
            if (algorithm != Checks.ChecksumAlgorithm)
                throw S3Errors.MalformedTrailer().ToException();
            if (!S3Checksum.TryParseValue(algorithm, value, out byte[]? expected))
                throw S3Errors.InvalidRequest($"Value for {name} trailing header is invalid.").ToException();
            Checks.SetTrailerChecksum(expected);
        }
    }

    private void OnTrailerEnd()
    {
        if (_declaredTrailer is not null && !_trailerSeen)
            throw S3Errors.MalformedTrailer($"The trailer did not carry the declared {_declaredTrailer}.").ToException();
        if (_mode == PayloadMode.StreamingSignedTrailer && !_trailerSigned)
            throw S3Errors.MalformedTrailer("The trailer did not carry x-amz-trailer-signature.").ToException();
        Checks.Verify();
        _state = State.ExpectEnd;
    }

    /// <summary>A CRLF-terminated line of at most <see cref="MaxLineLength"/> bytes, without its CRLF; false when more input is needed.</summary>
    private bool TryTakeLine(out ReadOnlySpan<byte> line)
    {
        var buffered = Buffer.AsSpan(_start, _end - _start);
        int lf = buffered.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (buffered.Length > MaxLineLength + 1)
                throw Malformed("A framing line of the aws-chunked body is too long.");
            line = default;
            return false;
        }
        if (lf == 0 || buffered[lf - 1] != '\r' || lf - 1 > MaxLineLength)
            throw Malformed(lf - 1 > MaxLineLength ? "A framing line of the aws-chunked body is too long." : "A framing line does not end with CRLF.");
        line = buffered[..(lf - 1)];
        if (line.IndexOf((byte)'\r') >= 0)
            throw Malformed("A framing line holds a bare CR.");
        _start += lf + 1;
        return true;
    }

    private void Compact()
    {
        if (_start == 0)
            return;
        Buffer.AsSpan(_start, _end - _start).CopyTo(Buffer);
        _end -= _start;
        _start = 0;
    }

    private static bool TryParseHex32(ReadOnlySpan<byte> hex, Span<byte> bytes)
    {
        if (hex.Length != 64)
            return false;
        for (int i = 0; i < 32; i++)
        {
            int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
            if ((hi | lo) < 0)
                return false;
            bytes[i] = (byte)((hi << 4) | lo);
        }
        return true;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static S3ProtocolException Malformed(string message) => S3Errors.InvalidRequest(message).ToException();

    private static S3ProtocolException Truncated(string message = "The body ended before its aws-chunked encoding did.") =>
        S3Errors.IncompleteBody(message).ToException();
}
