using System.Collections.Concurrent;
using System.Numerics;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Cache;

/// <summary>
/// This silo's bounded shard memory. Shards are evicted least-recently-used once <see cref="CacheOptions.CapacityBytes"/>
/// is exceeded. Buffers come from a pool of shard-sized arrays and go back to it only when no reader holds them,
/// so an eviction never hands a buffer that is still being served to another shard.
/// </summary>
internal sealed class ShardStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Entry> _byHandle = [];
    private readonly LinkedList<Entry> _lru = new();
    private readonly ConcurrentBag<byte[]> _pool = [];

    // Short shards' arrays by size class (see ShortClass), kept for reuse like full buffers: on a full cache a dataset of
    // 128 KiB samples otherwise got a new array from the GC for every sample, and clearing those fresh pages took 30% of
    // the machine in a cold epoch of 20,000 samples (perf).
    private readonly ConcurrentDictionary<int, ConcurrentBag<byte[]>> _shortPool = new();
    private readonly CacheInstruments _instruments;
    private long _used;
    private long _pooledBytes;
    private long _allocated;
    private long _evictions;

    public ShardStore(IOptions<CacheOptions> options, CacheInstruments instruments)
    {
        Capacity = options.Value.CapacityBytes;
        BufferSize = options.Value.ShardSize;
        _instruments = instruments;
    }

    public long Capacity { get; }

    public int BufferSize { get; }

    public long UsedBytes => Interlocked.Read(ref _used);

    /// <summary>Bytes of shard buffers alive: resident, pooled, being loaded, or evicted but still being sent.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocated);

    public long Evictions => Interlocked.Read(ref _evictions);

    public int Count
    {
        get { lock (_gate) return _byId.Count; }
    }

    /// <summary>
    /// A buffer of at least <paramref name="length"/> bytes for a shard; give it to <see cref="Add"/> or <see cref="Return"/>.
    /// Full shards share pooled buffers; a short shard (an object's tail, a small object) gets an array of its size class
    /// (at most 1/16 larger, see <see cref="ShortClass"/>), so a 1 KiB object does not pin a whole shard of memory.
    /// </summary>
    public byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int size = length == 0 || length > BufferSize ? length : Math.Min(ShortClass(length), BufferSize);
        if (size != BufferSize)
        {
            if (size > 0 && size < BufferSize)
            {
                // As for full buffers: at the capacity, evict to reuse an array of this class rather than allocate.
                var idle = _shortPool.GetOrAdd(size, static _ => []);
                if (!idle.TryTake(out var reused) && Interlocked.Read(ref _allocated) + size > Capacity)
                    MakeRoom(size, idle);
                if (reused is not null || (Interlocked.Read(ref _allocated) + size > Capacity && ReclaimForReuse(idle, out reused)))
                {
                    Interlocked.Add(ref _pooledBytes, -size);
                    return reused;
                }
            }
            Interlocked.Add(ref _allocated, size);
            return GC.AllocateUninitializedArray<byte>(size);
        }
        if (Interlocked.Read(ref _allocated) + BufferSize > Capacity && _pool.IsEmpty)
            MakeRoom(BufferSize, _pool);
        if (_pool.TryTake(out var buffer) || (Interlocked.Read(ref _allocated) + BufferSize > Capacity && ReclaimForReuse(out buffer)))
        {
            Interlocked.Add(ref _pooledBytes, -buffer.Length);
            return buffer;
        }
        // Uninitialized: every byte handed out is overwritten by the origin read before anyone sees it.
        Interlocked.Add(ref _allocated, BufferSize);
        return GC.AllocateUninitializedArray<byte>(BufferSize);
    }

    /// <summary>
    /// At capacity with no idle buffer: evicts least-recently-used shards until one of their buffers comes back, rather
    /// than allocate past the capacity. Growing would break the memory bound by the loads in flight, and new memory is
    /// slow to touch (measured here: page clearing took 40% of the machine while a full cache kept allocating).
    /// </summary>
    private bool ReclaimForReuse(out byte[] buffer) => ReclaimForReuse(_pool, out buffer);

    // Evicts least-recently-used shards (at most 16) until an idle buffer turns up in pool.
    private bool ReclaimForReuse(ConcurrentBag<byte[]> pool, out byte[] buffer)
    {
        for (int i = 0; i < 16; i++)
        {
            Entry? victim;
            lock (_gate)
            {
                victim = _lru.Last?.Value;
                if (victim is not null)
                    RemoveLocked(victim);
            }
            if (victim is null)
                break;
            Interlocked.Increment(ref _evictions);
            _instruments.Evicted(victim.Length);
            victim.Release(this);
            if (pool.TryTake(out buffer!))
                return true;
        }
        buffer = null!;
        return false;
    }

    /// <summary>Fills the pool with touched buffers up to the capacity (see <see cref="CacheOptions.PretouchBuffers"/>).</summary>
    public void Pretouch(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && Interlocked.Read(ref _allocated) + BufferSize <= Capacity)
        {
            var buffer = GC.AllocateUninitializedArray<byte>(BufferSize);
            for (int i = 0; i < buffer.Length; i += 4096)
                buffer[i] = 0;
            Interlocked.Add(ref _allocated, BufferSize);
            Return(buffer);
        }
    }

    public void Return(byte[] buffer)
    {
        // Keep at most a capacity's worth of idle buffers, full and short; beyond that let the GC have them.
        long idle = Interlocked.Read(ref _pooledBytes) + Interlocked.Read(ref _used);
        if (buffer.Length == BufferSize && idle < Capacity)
        {
            Interlocked.Add(ref _pooledBytes, buffer.Length);
            _pool.Add(buffer);
        }
        else if (buffer.Length is > 0 && buffer.Length < BufferSize && ShortClass(buffer.Length) == buffer.Length && idle + buffer.Length <= Capacity)
        {
            Interlocked.Add(ref _pooledBytes, buffer.Length);
            _shortPool.GetOrAdd(buffer.Length, static _ => []).Add(buffer);
        }
        else
        {
            Interlocked.Add(ref _allocated, -buffer.Length);
        }
    }

    /// <summary>
    /// The array size for a short shard of <paramref name="length"/> bytes: a multiple of 4 KiB and of 1/16 of the next
    /// power of two, so arrays of evicted shards fit later shards of about the same size (a dataset's samples) and waste
    /// at most about 1/16.
    /// </summary>
    internal static int ShortClass(int length)
    {
        if (length <= 4096)
            return 4096;
        long step = Math.Max(4096L, (long)BitOperations.RoundUpToPowerOf2((uint)length) / 16);
        return (int)Math.Min((length + step - 1) / step * step, int.MaxValue);
    }

    // A buffer of `size` is wanted at the capacity and `keep` (its own pool) has none: idle buffers of other sizes make way
    // for it (the GC has them) before any resident shard is evicted.
    private void MakeRoom(int size, ConcurrentBag<byte[]> keep)
    {
        foreach (var bag in _shortPool.Values.Append(_pool))
        {
            if (ReferenceEquals(bag, keep))
                continue;
            while (Interlocked.Read(ref _allocated) + size > Capacity && TryDropIdle(bag))
            {
            }
        }
    }

    // Lets the GC have one idle buffer of the pool.
    private bool TryDropIdle(ConcurrentBag<byte[]> pool)
    {
        if (!pool.TryTake(out var idle))
            return false;
        Interlocked.Add(ref _pooledBytes, -idle.Length);
        Interlocked.Add(ref _allocated, -idle.Length);
        return true;
    }

    /// <summary>
    /// Stores a loaded shard and returns its data-plane handle; evicts older shards to stay within capacity.
    /// <paramref name="crcs"/> are from <see cref="ShardCrcs.Compute"/> over the same bytes, or null when only the whole CRC
    /// is known (the first check of the shard then computes them, and requires them to add up to <paramref name="crc64"/>).
    /// Handles are random, so a data-plane URL of another shard, or of this silo's previous life, names nothing here.
    /// </summary>
    public long Add(string shardId, byte[] buffer, int length, ulong crc64, ShardCrcs? crcs = null)
    {
        List<Entry>? evicted = null;
        long handle;
        lock (_gate)
        {
            if (_byId.TryGetValue(shardId, out var existing))
            {
                Touch(existing);
                Return(buffer);
                return existing.Handle;
            }
            // Evict first, so the resident bytes never exceed the capacity, not even for a moment.
            while (_used + buffer.Length > Capacity && _lru.Last is { } last)
            {
                RemoveLocked(last.Value);
                (evicted ??= []).Add(last.Value);
            }
            Span<byte> random = stackalloc byte[8];
            do
            {
                RandomNumberGenerator.Fill(random);
                handle = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(random) & long.MaxValue;
            }
            while (handle == 0 || _byHandle.ContainsKey(handle));
            var entry = new Entry(shardId, handle, buffer, length, crc64, crcs);
            entry.Node = _lru.AddFirst(entry);
            _byId[shardId] = entry;
            _byHandle[handle] = entry;
            // Charged by the memory held, not the bytes used.
            _used += buffer.Length;
        }
        if (evicted is not null)
        {
            foreach (var e in evicted)
            {
                Interlocked.Increment(ref _evictions);
                _instruments.Evicted(e.Length);
                e.Release(this);
            }
        }
        TrimPool();
        return handle;
    }

    // Idle pooled buffers and resident shards together stay within the capacity: short shards have arrays of their own,
    // so without this a pool filled earlier (or pre-touched) would sit beside them and the silo would hold up to twice
    // its capacity.
    private void TrimPool()
    {
        foreach (var bag in _shortPool.Values.Prepend(_pool))
        {
            while (Interlocked.Read(ref _pooledBytes) + Interlocked.Read(ref _used) > Capacity && TryDropIdle(bag))
            {
            }
        }
    }

    /// <summary>The handle of a resident shard, marking it recently used.</summary>
    public bool TryGetHandle(string shardId, out long handle, out ulong crc64, out int length)
    {
        lock (_gate)
        {
            if (_byId.TryGetValue(shardId, out var e))
            {
                Touch(e);
                (handle, crc64, length) = (e.Handle, e.Crc64, e.Length);
                return true;
            }
        }
        (handle, crc64, length) = (0, 0, 0);
        return false;
    }

    /// <summary>Pins a resident shard for reading; dispose the lease when done.</summary>
    public bool TryLease(long handle, out ShardLease lease)
    {
        lock (_gate)
        {
            if (_byHandle.TryGetValue(handle, out var e))
            {
                Touch(e);
                e.Readers++;
                lease = new ShardLease(this, e);
                return true;
            }
        }
        lease = default;
        return false;
    }

    /// <summary>
    /// Gives a resident entry a new id (write-through: bytes staged under an upload's key become a shard of the new version
    /// once the upload completed). False when the handle is gone (evicted), holds another id than
    /// <paramref name="expectedId"/>, or the new id is taken.
    /// </summary>
    public bool TryRekey(long handle, string expectedId, string newShardId, out ulong crc64, out int length)
    {
        lock (_gate)
        {
            // Only the entry the receipt names: a handle that now holds something else is not renamed.
            if (_byHandle.TryGetValue(handle, out var e) && e.ShardId == expectedId && !_byId.ContainsKey(newShardId))
            {
                _byId.Remove(e.ShardId);
                e.ShardId = newShardId;
                _byId[newShardId] = e;
                Touch(e);
                (crc64, length) = (e.Crc64, e.Length);
                return true;
            }
        }
        (crc64, length) = (0, 0);
        return false;
    }

    /// <summary>Drops a shard whose bytes failed their check, so the next request reloads it.</summary>
    public void Remove(long handle) => Remove(_byHandle, handle);

    /// <summary>Drops the shard with this id, if resident (a version whose object failed its whole-object CRC).</summary>
    public void Remove(string shardId) => Remove(_byId, shardId);

    private void Remove<TKey>(Dictionary<TKey, Entry> index, TKey key)
        where TKey : notnull
    {
        Entry? e;
        lock (_gate)
        {
            if (!index.TryGetValue(key, out e))
                return;
            RemoveLocked(e);
        }
        e.Release(this);
    }

    /// <summary>The id a handle holds now, if resident.</summary>
    public bool TryGetId(long handle, out string shardId)
    {
        lock (_gate)
        {
            if (_byHandle.TryGetValue(handle, out var e))
            {
                shardId = e.ShardId;
                return true;
            }
        }
        shardId = "";
        return false;
    }

    public IReadOnlyList<string> ResidentShardIds()
    {
        lock (_gate) return [.. _byId.Keys];
    }

    /// <summary>
    /// Up to <paramref name="limit"/> resident shards (id and length) whose id passes <paramref name="match"/>; the bool says
    /// whether more matched. The walk holds the store's lock, so it is bounded by the number of resident shards
    /// (capacity / shard size), which is small.
    /// </summary>
    public (List<(string Id, int Length)> Shards, bool Truncated) ResidentShards(Func<string, bool> match, int limit)
    {
        var found = new List<(string, int)>(Math.Min(limit, 256));
        lock (_gate)
        {
            foreach (var e in _byId.Values)
            {
                if (!match(e.ShardId))
                    continue;
                if (found.Count == limit)
                    return (found, true);
                found.Add((e.ShardId, e.Length));
            }
        }
        return (found, false);
    }

    private void Touch(Entry e)
    {
        _lru.Remove(e.Node!);
        _lru.AddFirst(e.Node!);
    }

    private void RemoveLocked(Entry e)
    {
        _lru.Remove(e.Node!);
        _byId.Remove(e.ShardId);
        _byHandle.Remove(e.Handle);
        _used -= e.Buffer.Length;
        e.Evicted = true;
    }

    internal void EndRead(Entry e)
    {
        bool free;
        lock (_gate)
        {
            e.Readers--;
            free = e.Evicted && e.Readers == 0 && !e.Returned;
            if (free) e.Returned = true;
        }
        if (free) Return(e.Buffer);
    }

    internal sealed class Entry(string shardId, long handle, byte[] buffer, int length, ulong crc64, ShardCrcs? crcs)
    {
        public string ShardId { get; set; } = shardId;
        public long Handle { get; } = handle;
        public byte[] Buffer { get; } = buffer;
        public int Length { get; } = length;
        public ulong Crc64 { get; } = crc64;
        public LinkedListNode<Entry>? Node { get; set; }
        public int Readers { get; set; }
        public bool Evicted { get; set; }
        public bool Returned { get; set; }

        // Trusted because they were computed with Crc64 from the same bytes, or (set once by the first check) because they
        // added up to it then.
        private ShardCrcs? _crcs = crcs is not null && crcs.Whole == crc64 && crcs.Length == length ? crcs : null;

        public bool Verify(int offset, int length, out ulong before, out ulong after)
        {
            var crcs = Volatile.Read(ref _crcs);
            if (crcs is null)
            {
                crcs = ShardCrcs.Compute(Buffer.AsSpan(0, Length));
                if (crcs.Whole != Crc64)
                {
                    (before, after) = (0, 0);
                    return false;
                }
                Interlocked.CompareExchange(ref _crcs, crcs, null);
            }
            return crcs.VerifyRange(Buffer.AsSpan(0, Length), offset, length, out before, out after);
        }

        public void Release(ShardStore store)
        {
            bool free;
            lock (store._gate)
            {
                free = Readers == 0 && !Returned;
                if (free) Returned = true;
            }
            if (free) store.Return(Buffer);
        }
    }
}

/// <summary>A pinned shard: its bytes stay valid until the lease is disposed.</summary>
internal readonly struct ShardLease(ShardStore store, ShardStore.Entry entry) : IDisposable
{
    public ReadOnlyMemory<byte> Memory => entry.Buffer.AsMemory(0, entry.Length);

    public ulong Crc64 => entry.Crc64;

    public long Handle => entry.Handle;

    /// <summary>The id the shard is stored under (its shard grain key, or a staging id).</summary>
    public string ShardId => entry.ShardId;

    /// <summary>
    /// Whether the bytes in [offset, offset + length) still match the CRC-64s the shard was loaded with, reading only the
    /// blocks the range covers (the first check of a shard added without block CRCs reads it whole and requires the
    /// blocks to add up to <see cref="Crc64"/>); <paramref name="before"/> and <paramref name="after"/> are the CRC-64s of
    /// the shard's bytes before and after the range, for the reader's own check.
    /// </summary>
    public bool Verify(int offset, int length, out ulong before, out ulong after) => entry.Verify(offset, length, out before, out after);

    public void Dispose() => store.EndRead(entry);
}
