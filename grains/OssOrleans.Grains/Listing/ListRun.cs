using System.Runtime.CompilerServices;

namespace OssOrleans.Grains.Listing;

/// <summary>
/// One listing of a partition: a producer (the origin pager) appends chunks to a log, and any number of readers (grain
/// calls) read it from the start at their own pace.
/// <para>
/// While the run is cached, the log keeps every chunk, so readers that come later (within the TTL) replay it without
/// asking the origin, and the producer runs at full speed. The cache is bounded per silo by <see cref="ListCacheBudget"/>:
/// when a chunk does not fit, the run stops caching, and from then on chunks every reader has passed are dropped and the
/// producer waits while it is more than <c>lookahead</c> chunks ahead of the slowest reader. Uncached runs therefore hold
/// at most about <c>lookahead</c> chunks, and a run nobody reads any more is cancelled.
/// </para>
/// Thread-safe; none of it runs on the grain's scheduler.
/// </summary>
internal sealed class ListRun
{
    private readonly object _lock = new();
    private readonly List<ListChunk?> _log = [];
    private readonly List<Cursor> _cursors = [];
    private readonly ListCacheBudget _budget;
    private readonly int _lookahead;
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _grown = NewSignal();
    private TaskCompletionSource _advanced = NewSignal();
    private int _trimmed;
    private int _reservedChunks;
    private long _reservedEntries;
    private bool _caching;
    private bool _completed;
    private bool _released;
    private bool _retired;
    private Exception? _error;

    public ListRun(bool cache, ListCacheBudget budget, int lookahead, DateTimeOffset startedAt)
    {
        _caching = cache;
        _budget = budget;
        _lookahead = Math.Max(1, lookahead);
        StartedAt = startedAt;
    }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Cancelled when the run is released or nobody reads an uncached run any more.</summary>
    public CancellationToken Stopping => _stop.Token;

    public bool IsCompleted { get { lock (_lock) return _completed; } }

    public bool IsFaulted { get { lock (_lock) return _error is not null; } }

    /// <summary>A later reader may replay this run: it failed in nothing and has dropped nothing.</summary>
    public bool IsReplayable { get { lock (_lock) return _caching && _error is null && !_released && !_retired && _trimmed == 0; } }

    /// <summary>Appends a chunk, waiting while an uncached run is too far ahead of its slowest reader.</summary>
    public async ValueTask AppendAsync(ListChunk chunk, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_released)
                    throw new OperationCanceledException("the list run was released");
                if (_caching && !(_reservedChunks == _log.Count && _budget.TryReserve(chunk.Count)))
                {
                    _caching = false;
                    TrimLocked();
                }
                if (_caching || _log.Count - SlowestLocked() < _lookahead)
                {
                    _log.Add(chunk);
                    if (_caching)
                    {
                        _reservedChunks++;
                        _reservedEntries += chunk.Count;
                    }
                    Signal(ref _grown);
                    return;
                }
                wait = _advanced.Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the run, successfully or with the error every reader will get.</summary>
    public void Complete(Exception? error)
    {
        lock (_lock)
        {
            _completed = true;
            _error = error;
            Signal(ref _grown);
        }
    }

    /// <summary>Attaches a reader at the start of the log; false when chunks were dropped already (start a new run instead).</summary>
    public bool TryAttach(out Cursor cursor)
    {
        lock (_lock)
        {
            if (_trimmed > 0 || _released || _retired)
            {
                cursor = null!;
                return false;
            }
            cursor = new Cursor();
            _cursors.Add(cursor);
            return true;
        }
    }

    /// <summary>Reads the log from the cursor to the end of the run; detaches when the enumeration ends or is abandoned.</summary>
    public async IAsyncEnumerable<ListChunk> ReadAsync(Cursor cursor, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        try
        {
            while (true)
            {
                ListChunk? chunk = null;
                Task? wait = null;
                lock (_lock)
                {
                    if (cursor.Position < _log.Count)
                    {
                        chunk = _log[cursor.Position] ?? throw new InvalidOperationException("list run: a reader fell behind dropped chunks");
                        cursor.Position++;
                        if (!_caching)
                            TrimLocked();
                        Signal(ref _advanced);
                    }
                    else if (_completed)
                    {
                        if (_error is not null)
                            throw ListErrors.Fresh(_error);
                        yield break;
                    }
                    else
                    {
                        wait = _grown.Task;
                    }
                }
                if (chunk is not null)
                    yield return chunk;
                else
                    await wait!.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Detach(cursor);
        }
    }

    /// <summary>
    /// Drops the cache and stops the producer (TTL expiry, or a newer run replacing this one): now when nobody reads the run,
    /// otherwise when the last reader leaves. True when released now.
    /// </summary>
    public bool Retire()
    {
        lock (_lock)
        {
            _retired = true;
            if (_cursors.Count > 0)
                return false;
            ReleaseLocked();
        }
        _stop.Cancel();
        return true;
    }

    /// <summary>Ends the run for everyone (deactivation): readers still attached get <paramref name="error"/>.</summary>
    public void Abort(Exception error)
    {
        lock (_lock)
        {
            // Overrides a successful end too: a reader in the middle of a replay must not see a silently shortened listing.
            _completed = true;
            _error = error;
            ReleaseLocked();
        }
        _stop.Cancel();
    }

    private void ReleaseLocked()
    {
        if (_released)
            return;
        _released = true;
        _budget.Release(_reservedEntries);
        _reservedEntries = 0;
        _log.Clear();
        _trimmed = int.MaxValue;
        if (!_completed)
        {
            _completed = true;
            _error = new OperationCanceledException("the listing was stopped");
        }
        Signal(ref _grown);
        Signal(ref _advanced);
    }

    private void Detach(Cursor cursor)
    {
        bool abandoned;
        lock (_lock)
        {
            _cursors.Remove(cursor);
            if (!_caching)
                TrimLocked();
            Signal(ref _advanced);
            abandoned = _cursors.Count == 0 && ((!_caching && !_completed) || _retired);
            if (abandoned && _retired)
                ReleaseLocked();
        }
        if (abandoned)
            _stop.Cancel();
    }

    private int SlowestLocked()
    {
        int slowest = _log.Count;
        foreach (var c in _cursors)
            slowest = Math.Min(slowest, c.Position);
        return slowest;
    }

    // Uncached: drop the chunks every reader has passed, and give their budget back.
    private void TrimLocked()
    {
        if (_released)
            return;
        int upTo = SlowestLocked();
        for (int i = _trimmed; i < upTo; i++)
        {
            if (i < _reservedChunks && _log[i] is { } reserved)
            {
                _budget.Release(reserved.Count);
                _reservedEntries -= reserved.Count;
            }
            _log[i] = null;
        }
        _trimmed = Math.Max(_trimmed, upTo);
    }

    private static void Signal(ref TaskCompletionSource signal)
    {
        var fired = signal;
        signal = NewSignal();
        fired.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A reader's position in the log.</summary>
    public sealed class Cursor
    {
        public int Position { get; set; }
    }
}
