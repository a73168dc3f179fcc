namespace OssOrleans.TestKit;

/// <summary>
/// A map from string keys (in UTF-8 byte order) to values, kept as a list of sorted chunks so that
/// inserting, removing, looking up and finding where a listing starts are all O(log n + chunk), and
/// listing a page is O(page). Appending keys in ascending order (bulk loads) is O(1) amortized.
/// Not thread-safe: the owner locks.
/// </summary>
internal sealed class SortedIndex<TValue>
{
    private const int MaxChunk = 2048;
    private readonly List<List<KeyValuePair<string, TValue>>> _chunks = [];

    public int Count { get; private set; }

    /// <summary>A place in the index: chunk number and index inside it. Chunk == chunk count means the end.</summary>
    public readonly record struct Position(int Chunk, int Index);

    public bool TryGetValue(string key, out TValue value)
    {
        int c = FindChunk(key);
        if (c < _chunks.Count)
        {
            var chunk = _chunks[c];
            int i = SearchInChunk(chunk, key);
            if (i >= 0)
            {
                value = chunk[i].Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    /// <summary>Adds or replaces; returns true when the key was new.</summary>
    public bool Set(string key, TValue value)
    {
        if (_chunks.Count == 0)
        {
            _chunks.Add(new List<KeyValuePair<string, TValue>>(16) { new(key, value) });
            Count++;
            return true;
        }
        int c = FindChunk(key);
        if (c == _chunks.Count)
        {
            c--; // greater than every key: append to the last chunk
        }
        var chunk = _chunks[c];
        int i = SearchInChunk(chunk, key);
        if (i >= 0)
        {
            chunk[i] = new(key, value);
            return false;
        }
        chunk.Insert(~i, new(key, value));
        Count++;
        if (chunk.Count > MaxChunk)
        {
            int half = chunk.Count / 2;
            var upper = chunk.GetRange(half, chunk.Count - half);
            chunk.RemoveRange(half, chunk.Count - half);
            _chunks.Insert(c + 1, upper);
        }
        return true;
    }

    public bool Remove(string key)
    {
        int c = FindChunk(key);
        if (c == _chunks.Count)
        {
            return false;
        }
        var chunk = _chunks[c];
        int i = SearchInChunk(chunk, key);
        if (i < 0)
        {
            return false;
        }
        chunk.RemoveAt(i);
        Count--;
        if (chunk.Count == 0)
        {
            _chunks.RemoveAt(c);
        }
        return true;
    }

    /// <summary>The first position whose key is not "before" (the predicate must be true then false along the order).</summary>
    public Position Seek(Func<string, bool> isBefore)
    {
        int lo = 0, hi = _chunks.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            var chunk = _chunks[mid];
            if (isBefore(chunk[^1].Key))
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        if (lo == _chunks.Count)
        {
            return new Position(lo, 0);
        }
        var found = _chunks[lo];
        int a = 0, b = found.Count - 1; // the last key is known not to be before
        while (a < b)
        {
            int mid = (a + b) >>> 1;
            if (isBefore(found[mid].Key))
            {
                a = mid + 1;
            }
            else
            {
                b = mid;
            }
        }
        return new Position(lo, a);
    }

    /// <summary>First key &gt;= <paramref name="key"/>.</summary>
    public Position LowerBound(string key) => Seek(k => Utf8Ordinal.CompareStrings(k, key) < 0);

    /// <summary>First key &gt; <paramref name="key"/>.</summary>
    public Position UpperBound(string key) => Seek(k => Utf8Ordinal.CompareStrings(k, key) <= 0);

    /// <summary>First key after every key that starts with <paramref name="prefix"/>.</summary>
    public Position AfterPrefix(string prefix) =>
        Seek(k => k.StartsWith(prefix, StringComparison.Ordinal) || Utf8Ordinal.CompareStrings(k, prefix) < 0);

    public bool TryGet(Position p, out KeyValuePair<string, TValue> entry)
    {
        if (p.Chunk < _chunks.Count && p.Index < _chunks[p.Chunk].Count)
        {
            entry = _chunks[p.Chunk][p.Index];
            return true;
        }
        entry = default;
        return false;
    }

    public Position Next(Position p) =>
        p.Index + 1 < _chunks[p.Chunk].Count ? new Position(p.Chunk, p.Index + 1) : new Position(p.Chunk + 1, 0);

    public static Position Max(Position a, Position b) =>
        a.Chunk > b.Chunk || (a.Chunk == b.Chunk && a.Index >= b.Index) ? a : b;

    public IEnumerable<KeyValuePair<string, TValue>> All()
    {
        foreach (var chunk in _chunks)
        {
            foreach (var entry in chunk)
            {
                yield return entry;
            }
        }
    }

    /// <summary>The first chunk whose last key is &gt;= key (chunk count when none).</summary>
    private int FindChunk(string key)
    {
        int lo = 0, hi = _chunks.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Utf8Ordinal.CompareStrings(_chunks[mid][^1].Key, key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    private static int SearchInChunk(List<KeyValuePair<string, TValue>> chunk, string key)
    {
        int lo = 0, hi = chunk.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int cmp = Utf8Ordinal.CompareStrings(chunk[mid].Key, key);
            if (cmp == 0)
            {
                return mid;
            }
            if (cmp < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }
}
