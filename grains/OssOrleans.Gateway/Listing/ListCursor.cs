namespace OssOrleans.Gateway.Listing;

/// <summary>
/// A listing being read page by page: the partition's stream, the entries of the chunk it is in the middle of, and the
/// last item handed out (where a new stream would start if this one is lost). Owned by one request at a time.
/// </summary>
internal sealed class ListCursor(string owner, ListPartitionKey listing, IAsyncEnumerator<ListChunk> stream) : IAsyncDisposable
{
    private ObjectEntry[] _pending = [];
    private int _next;

    /// <summary>The tenant that listed, and what: a cursor is only ever continued for the same.</summary>
    public string Owner { get; } = owner;

    public ListPartitionKey Listing { get; } = listing;

    public IAsyncEnumerator<ListChunk> Stream { get; private set; } = stream;

    public DateTimeOffset LastUsed { get; set; }

    /// <summary>True when the stream ended: no more entries.</summary>
    public bool Ended { get; private set; }

    /// <summary>The next entry without taking it; null at the end. <paramref name="moveNext"/> advances the stream.</summary>
    public async ValueTask<ObjectEntry?> PeekAsync(Func<IAsyncEnumerator<ListChunk>, ValueTask<bool>> moveNext)
    {
        while (_next >= _pending.Length)
        {
            if (Ended || !await moveNext(Stream).ConfigureAwait(false))
            {
                Ended = true;
                return null;
            }
            var chunk = Stream.Current;
            _pending = chunk.Count == 0 ? [] : chunk.ReadEntries();
            _next = 0;
        }
        return _pending[_next];
    }

    public void Take() => _next++;

    /// <summary>Continues on a new stream (the old one was lost) after the last item handed out.</summary>
    public async ValueTask ReplaceStreamAsync(IAsyncEnumerator<ListChunk> stream)
    {
        await DisposeQuietlyAsync(Stream).ConfigureAwait(false);
        Stream = stream;
        _pending = [];
        _next = 0;
        Ended = false;
    }

    public ValueTask DisposeAsync() => DisposeQuietlyAsync(Stream);

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<ListChunk> stream)
    {
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Disposing tells the silo holding the partition to drop the enumeration; if it is gone there is nothing to tell.
        }
    }
}
