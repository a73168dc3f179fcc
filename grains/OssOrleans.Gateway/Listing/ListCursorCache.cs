using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;

namespace OssOrleans.Gateway.Listing;

/// <summary>
/// Listings in progress, kept open between pages: a client paging through a prefix continues the partition stream it
/// started on, so the listing is read from the origin (or the partition's cache) once, not again from each page's start.
/// Bounded in number (<see cref="GatewayOptions.ListCursors"/>) and idle time; a cursor taken is the taker's alone (a page
/// asked twice at once gets it once; the other starts a fresh stream at the same place).
/// </summary>
internal sealed class ListCursorCache(IOptions<GatewayOptions> options, TimeProvider time) : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, ListCursor Cursor)>> _byKey = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, ListCursor Cursor)> _lru = new();
    private readonly int _capacity = options.Value.ListCursors;
    private readonly TimeSpan _idle = options.Value.ListCursorIdle;

    public ListCursor? TryTake(string key)
    {
        lock (_lock)
        {
            if (!_byKey.Remove(key, out var node))
                return null;
            _lru.Remove(node);
            return node.Value.Cursor;
        }
    }

    public void Put(string key, ListCursor cursor)
    {
        var now = time.GetUtcNow();
        cursor.LastUsed = now;
        var dropped = new List<ListCursor>();
        lock (_lock)
        {
            if (_capacity == 0)
            {
                dropped.Add(cursor);
            }
            else
            {
                if (_byKey.Remove(key, out var old))
                {
                    _lru.Remove(old);
                    dropped.Add(old.Value.Cursor);
                }
                _byKey[key] = _lru.AddFirst((key, cursor));
                while (_lru.Last is { } last && (_lru.Count > _capacity || now - last.Value.Cursor.LastUsed > _idle))
                {
                    _lru.RemoveLast();
                    _byKey.Remove(last.Value.Key);
                    dropped.Add(last.Value.Cursor);
                }
            }
        }
        foreach (var c in dropped)
            _ = c.DisposeAsync().AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        List<ListCursor> all;
        lock (_lock)
        {
            all = [.. _lru.Select(n => n.Cursor)];
            _lru.Clear();
            _byKey.Clear();
        }
        foreach (var c in all)
            await c.DisposeAsync().ConfigureAwait(false);
    }
}
