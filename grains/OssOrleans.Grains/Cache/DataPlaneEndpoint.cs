namespace OssOrleans.Grains.Cache;

/// <summary>The base URL of this silo's data plane, known once its server has bound a port.</summary>
internal sealed class DataPlaneEndpoint
{
    private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> UrlAsync => _url.Task;

    public string? Url => _url.Task.IsCompletedSuccessfully ? _url.Task.Result : null;

    /// <summary>The Unix domain socket the data plane also listens on, or null; set before the URL.</summary>
    public string? LocalSocket { get; private set; }

    public void Set(string url, string? localSocket = null)
    {
        LocalSocket = localSocket;
        _url.TrySetResult(url.TrimEnd('/'));
    }

    public void Fail(Exception ex) => _url.TrySetException(ex);

    public static string ShardPath(long handle) => $"/s/{handle}";
}

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

/// <summary>The per-silo limit on origin requests in flight (<see cref="Hosting.CacheOptions.MaxOriginConcurrency"/>).</summary>
internal sealed class OriginGate(int maxConcurrency) : ConcurrencyGate(maxConcurrency);
