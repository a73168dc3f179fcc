using System.Buffers;
using System.Collections.Concurrent;

namespace OssOrleans.Client;

/// <summary>
/// A write-only stream that uploads an object in parts, in parallel, through the cluster. The object becomes visible only
/// when <see cref="CompleteAsync"/> succeeds; disposing the stream without completing it, an error in any part, or the
/// cancellation of the token given at open aborts the upload, and nothing becomes visible. Memory held: at most
/// <c>UploadConcurrency + 1</c> part buffers. Not thread-safe (one writer), like a FileStream.
/// </summary>
public sealed class OssWriteStream : Stream
{
    /// <summary>S3's and OSS's limit of parts per multipart upload.</summary>
    private const int MaxParts = 10_000;

    private readonly IUploadGrain _grain;
    private readonly UploadSession _session;
    private readonly PartUploader _uploader;
    private readonly int _partSize;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _cancel;
    private readonly List<Task> _inflight = [];
    private readonly ConcurrentBag<UploadedPartInfo> _parts = [];
    private readonly ConcurrentBag<StagedShard> _staged = [];
    private byte[]? _buffer;
    private int _filled;
    private int _nextPart = 1;
    private long _written;
    private Exception? _failure;
    private ObjectInfo? _result;
    private bool _closed;

    internal OssWriteStream(IUploadGrain grain, UploadSession session, PartUploader uploader, int partSize, int concurrency, CancellationToken cancellationToken)
    {
        _grain = grain;
        _session = session;
        _uploader = uploader;
        _partSize = partSize;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>The object being written.</summary>
    public ObjectUri Uri => _session.Uri;

    /// <summary>Bytes of each part (a multiple of the cluster's shard size).</summary>
    public int PartSize => _partSize;

    /// <summary>The new object, once <see cref="CompleteAsync"/> succeeded.</summary>
    public ObjectInfo? Result => _result;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_closed;
    public override long Length => throw new NotSupportedException("an OssWriteStream has no length until it completes");

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException("an OssWriteStream cannot seek");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        // Copy into the part buffer synchronously; only a full part needs to wait (for an upload slot).
        while (!buffer.IsEmpty)
        {
            int n = Append(buffer);
            buffer = buffer[n..];
            if (_filled == _partSize)
                DispatchAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int n = Append(buffer.Span);
            buffer = buffer[n..];
            if (_filled == _partSize)
                await DispatchAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Parts are sent as they fill; flushing does not send a partial part (every part but the last must be full).</summary>
    public override void Flush() => ThrowIfFailed();

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends the last part, waits for every part and completes the upload: the object becomes visible, whole. On any error
    /// the upload is aborted and the error is thrown. Completing twice returns the same result.
    /// </summary>
    public async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_result is not null)
            return _result;
        ThrowIfFailed();
        try
        {
            if (_filled > 0 || _nextPart == 1)
                await DispatchAsync(cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(_inflight).ConfigureAwait(false);
            ThrowIfFailed();
            _result = await CallWithRetriesAsync(() => _grain.CompleteAsync(_session, [.. _parts.OrderBy(p => p.PartNumber)], [.. _staged]), cancellationToken).ConfigureAwait(false);
            _closed = true;
            return _result;
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref _failure, ex, null);
            await AbortAsync().ConfigureAwait(false);
            throw;
        }
    }

    private int Append(ReadOnlySpan<byte> data)
    {
        ThrowIfFailed();
        _buffer ??= ArrayPool<byte>.Shared.Rent(_partSize);
        int n = Math.Min(_partSize - _filled, data.Length);
        data[..n].CopyTo(_buffer.AsSpan(_filled));
        _filled += n;
        _written += n;
        return n;
    }

    private async Task DispatchAsync(CancellationToken cancellationToken)
    {
        if (_nextPart > MaxParts)
        {
            var tooLarge = new IOException($"{Uri}: more than {MaxParts} parts of {_partSize} bytes; raise WriteOptions.PartSize for objects this large");
            Interlocked.CompareExchange(ref _failure, tooLarge, null);
            throw tooLarge;
        }
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token, cancellationToken))
        {
            try
            {
                await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex)
            {
                // A failed part cancels the others: report its error rather than the cancellation.
                ThrowIfFailed();
                Interlocked.CompareExchange(ref _failure, ex, null);
                throw;
            }
        }
        var buffer = _buffer ?? ArrayPool<byte>.Shared.Rent(1);
        int length = _filled, part = _nextPart++;
        _buffer = null;
        _filled = 0;
        _inflight.RemoveAll(t => t.IsCompleted);
        _inflight.Add(SendAsync(part, buffer, length));
    }

    private async Task SendAsync(int part, byte[] buffer, int length)
    {
        try
        {
            var (uploaded, staged) = await _uploader.SendAsync(part, buffer.AsMemory(0, length), _cancel.Token).ConfigureAwait(false);
            _parts.Add(uploaded);
            foreach (var s in staged)
                _staged.Add(s);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Cancelled by the caller's token or by another part's failure: the writer sees that at its next call.
        }
        catch (Exception ex)
        {
            // The first error wins and stops the other parts; the writer sees it at its next call.
            Interlocked.CompareExchange(ref _failure, ex, null);
            await _cancel.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _slots.Release();
        }
    }

    private void ThrowIfFailed()
    {
        ObjectDisposedException.ThrowIf(_closed && _result is null, this);
        if (_result is not null)
            throw new InvalidOperationException($"the upload of {Uri} is complete; the stream takes no more bytes");
        if (_failure is not null)
            throw new IOException($"the upload of {Uri} failed: {_failure.Message}", _failure);
        _cancel.Token.ThrowIfCancellationRequested();
    }

    private async Task AbortAsync()
    {
        if (_closed)
            return;
        _closed = true;
        await _cancel.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_inflight).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Part errors were recorded already; the upload is being abandoned anyway.
        }
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        try
        {
            await CallWithRetriesAsync(async () => { await _grain.AbortAsync(_session).ConfigureAwait(false); return true; }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Best effort: an upload the origin keeps is invisible, and its lifecycle rules remove it.
        }
    }

    // The upload grain keeps no state, so a call lost with its silo is simply made again (it re-activates elsewhere).
    private static async Task<T> CallWithRetriesAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < 4 && !cancellationToken.IsCancellationRequested
                && (ex is TimeoutException || ex.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_closed)
            await AbortAsync().ConfigureAwait(false);
        _cancel.Dispose();
        _slots.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_closed)
            AbortAsync().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("an OssWriteStream is write-only");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("an OssWriteStream cannot seek");
    public override void SetLength(long value) => throw new NotSupportedException("an OssWriteStream cannot seek");
}
