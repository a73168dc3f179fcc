namespace OssOrleans.Client;

/// <summary>
/// A seekable read-only view of one object version, read shard by shard through the cluster with up to
/// <c>window</c> shards fetched ahead of the reader, and the cluster asked to load
/// <see cref="ShardFetcher.ClusterReadAheadShards"/> more beyond those. Memory held: at most <c>window</c> shard buffers.
/// </summary>
internal sealed class ShardedReadStream : Stream
{
    private readonly ShardFetcher _fetcher;
    private readonly ObjectInfo _info;
    private readonly int _window;
    private readonly Dictionary<int, Task<ShardBuffer>> _ahead = [];
    private readonly CancellationTokenSource _cts = new();
    private ShardBuffer? _current;
    private int _currentIndex = -1;
    private int _clusterAheadUpTo = -1;
    private long _position;
    private bool _disposed;

    public ShardedReadStream(ShardFetcher fetcher, ObjectInfo info, int window)
    {
        _fetcher = fetcher;
        _info = info;
        _window = window;
    }

    /// <summary>The version this stream reads.</summary>
    public ObjectInfo Info => _info;

    public override bool CanRead => !_disposed;
    public override bool CanSeek => !_disposed;
    public override bool CanWrite => false;
    public override long Length => _info.Size;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int n = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _position >= _info.Size)
            return 0;
        int index = (int)(_position / _info.ShardSize);
        if (index != _currentIndex)
        {
            _current?.Dispose();
            _current = null;
            _currentIndex = -1;
            DropOutsideWindow(index);
            // The window starts moving before this shard arrives: waiting for it first would leave the origin idle for a
            // whole shard load at every open and every seek.
            var take = TakeAsync(index, cancellationToken);
            ScheduleAhead(index);
            _current = await take.ConfigureAwait(false);
            _currentIndex = index;
        }
        int inShard = (int)(_position - (long)index * _info.ShardSize);
        int n = Math.Min(buffer.Length, _current!.Length - inShard);
        _current.Memory.Span.Slice(inShard, n).CopyTo(buffer.Span);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _info.Size + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
            throw new IOException($"cannot seek to {target}, before the start of {_info.Uri}");
        // Past the end is allowed, as for FileStream; reads there return 0.
        _position = target;
        return _position;
    }

    private async Task<ShardBuffer> TakeAsync(int index, CancellationToken cancellationToken)
    {
        if (_ahead.Remove(index, out var pending))
            return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token, cancellationToken);
        return await _fetcher.FetchAsync(_info, index, linked.Token).ConfigureAwait(false);
    }

    private void ScheduleAhead(int index)
    {
        int last = Math.Min(_info.ShardCount - 1, index + _window - 1);
        for (int i = index + 1; i <= last; i++)
        {
            if (!_ahead.ContainsKey(i))
                _ahead[i] = _fetcher.FetchAsync(_info, i, _cts.Token);
        }
        // Each shard is asked of the cluster once per stream, as the window reaches it; a seek back asks nothing again.
        int far = Math.Min(_info.ShardCount - 1, last + _fetcher.ClusterReadAheadShards);
        for (int i = Math.Max(last + 1, _clusterAheadUpTo + 1); i <= far; i++)
            _fetcher.Prefetch(_info, i);
        _clusterAheadUpTo = Math.Max(_clusterAheadUpTo, far);
    }

    private void DropOutsideWindow(int index)
    {
        foreach (var i in _ahead.Keys.Where(i => i < index || i >= index + _window).ToList())
        {
            _ahead.Remove(i, out var task);
            Release(task!);
        }
    }

    private static void Release(Task<ShardBuffer> task) =>
        _ = task.ContinueWith(static t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, TaskScheduler.Default);

    protected override void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _disposed = true;
            _cts.Cancel();
            _current?.Dispose();
            foreach (var task in _ahead.Values)
                Release(task);
            _ahead.Clear();
            _cts.Dispose();
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException("OssOrleans read streams are read-only");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("OssOrleans read streams are read-only");
}
