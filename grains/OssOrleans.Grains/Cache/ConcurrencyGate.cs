namespace OssOrleans.Grains.Cache;

/// <summary>A bound on operations in flight; each <see cref="EnterAsync"/> holds a slot until its result is disposed.</summary>
internal abstract class ConcurrencyGate(int maxConcurrency)
{
    private readonly SemaphoreSlim _slots = new(maxConcurrency, maxConcurrency);

    public int Capacity => maxConcurrency;

    /// <summary>True when an operation could start now without waiting.</summary>
    public bool HasFreeSlot => _slots.CurrentCount > 0;

    public async ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken = default)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Slot(_slots);
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                slots.Release();
        }
    }
}
