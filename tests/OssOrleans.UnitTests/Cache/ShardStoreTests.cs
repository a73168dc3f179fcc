using OssOrleans.Checksums;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Cache;

public sealed class ShardStoreTests
{
    private const int Shard = 64 * 1024;

    private static ShardStore NewStore(int shards) =>
        new(Options.Create(new CacheOptions { ShardSize = Shard, CapacityBytes = (long)shards * Shard }), new CacheInstruments());

    private static byte[] Fill(ShardStore store, byte value)
    {
        var b = store.Rent(Shard);
        b.AsSpan().Fill(value);
        return b;
    }

    [Fact]
    public void Add_BeyondCapacity_EvictsLeastRecentlyUsed()
    {
        var store = NewStore(3);
        store.Add("a", Fill(store, 1), Shard, 0);
        store.Add("b", Fill(store, 2), Shard, 0);
        store.Add("c", Fill(store, 3), Shard, 0);
        Assert.True(store.TryGetHandle("a", out _, out _, out _)); // a is now the most recent

        store.Add("d", Fill(store, 4), Shard, 0);

        Assert.False(store.TryGetHandle("b", out _, out _, out _));
        Assert.True(store.TryGetHandle("a", out _, out _, out _));
        Assert.True(store.TryGetHandle("c", out _, out _, out _));
        Assert.True(store.TryGetHandle("d", out _, out _, out _));
        Assert.Equal(3L * Shard, store.UsedBytes);
        Assert.Equal(1, store.Evictions);
    }

    [Fact]
    public void Rent_AtCapacity_TakesTheLeastRecentlyUsedBufferInsteadOfGrowing()
    {
        var store = NewStore(3);
        for (int i = 0; i < 3; i++)
            store.Add("s" + i, Fill(store, (byte)i), Shard, 0);

        for (int i = 3; i < 20; i++)
        {
            store.Add("s" + i, Fill(store, (byte)i), Shard, 0);
            Assert.True(store.AllocatedBytes <= 3L * Shard, $"allocated {store.AllocatedBytes} after shard {i}");
        }
        Assert.Equal(17, store.Evictions);
        Assert.False(store.TryGetHandle("s16", out _, out _, out _));
        Assert.True(store.TryGetHandle("s19", out _, out _, out _));
    }

    [Fact]
    public void Rent_AtCapacityWithEveryShardLeased_NeverHandsOutALeasedBuffer()
    {
        var store = NewStore(2);
        long a = store.Add("a", Fill(store, 0xAA), Shard, 0);
        long b = store.Add("b", Fill(store, 0xBB), Shard, 0);
        Assert.True(store.TryLease(a, out var leaseA));
        Assert.True(store.TryLease(b, out var leaseB));

        var fresh = store.Rent(Shard);
        fresh.AsSpan().Fill(0x11);

        Assert.True(leaseA.Memory.Span.IndexOfAnyExcept((byte)0xAA) < 0);
        Assert.True(leaseB.Memory.Span.IndexOfAnyExcept((byte)0xBB) < 0);
        leaseA.Dispose();
        leaseB.Dispose();
        store.Return(fresh);
    }

    [Fact]
    public void ShortShards_BesideAPretouchedPool_KeepTheSiloWithinItsCapacity()
    {
        var store = NewStore(4);
        store.Pretouch(CancellationToken.None);
        Assert.Equal(4L * Shard, store.AllocatedBytes);

        // Short shards (small objects, tails) get arrays of their own; idle pooled buffers must make room for them.
        for (int i = 0; i < 6; i++)
            store.Add("small" + i, store.Rent(Shard / 2), Shard / 2, 0);

        Assert.Equal(3L * Shard, store.UsedBytes);
        Assert.True(store.AllocatedBytes <= 4L * Shard, $"allocated {store.AllocatedBytes} with a capacity of {4L * Shard}");
        // A full shard still finds a pooled buffer or reclaims one, without growing past the capacity.
        store.Add("full", Fill(store, 1), Shard, 0);
        Assert.True(store.AllocatedBytes <= 4L * Shard, $"allocated {store.AllocatedBytes} with a capacity of {4L * Shard}");
    }

    [Fact]
    public void ShortShard_ReusesTheArrayOfAnEvictedOneOfItsClass_WithinTheCapacity()
    {
        var store = NewStore(2);
        var first = store.Rent(5000);
        Assert.Equal(8192, first.Length);
        long h = store.Add("s0", first, 5000, 0);
        Assert.True(store.TryLease(h, out var lease));
        Assert.Equal(5000, lease.Memory.Length);
        lease.Dispose();

        // 16 more short shards of the same class: the early ones are evicted (capacity 128 KiB, charged 8 KiB each) and
        // later ones take their arrays instead of new memory.
        var seen = new HashSet<byte[]>(ReferenceEqualityComparer.Instance) { first };
        int reused = 0;
        for (int i = 1; i <= 32; i++)
        {
            var b = store.Rent(4100 + i);
            if (!seen.Add(b))
                reused++;
            store.Add("s" + i, b, 4100 + i, 0);
            Assert.True(store.AllocatedBytes <= 2L * Shard, $"allocated {store.AllocatedBytes}");
        }
        Assert.True(reused >= 15, $"only {reused} arrays were reused");

        // A full shard at the capacity takes the memory of idle short arrays rather than grow past it.
        store.Add("full", Fill(store, 3), Shard, 0);
        Assert.True(store.AllocatedBytes <= 2L * Shard, $"allocated {store.AllocatedBytes}");
    }

    [Theory]
    [InlineData(1, 4096)]
    [InlineData(4096, 4096)]
    [InlineData(4097, 8192)]
    [InlineData(130_000, 131_072)]
    [InlineData(131_072, 131_072)]
    [InlineData(131_073, 147_456)]
    [InlineData(70_000, 73_728)]
    public void ShortClass_RoundsUpByAtMostASixteenth(int length, int expected)
    {
        Assert.Equal(expected, ShardStore.ShortClass(length));
        Assert.Equal(expected, ShardStore.ShortClass(expected));
    }

    [Fact]
    public void Verify_APartChecksOnlyTheBlocksUnderIt_AndTheFirstCheckReadsTheWholeShard()
    {
        const int size = 4 * ShardCrcs.BlockSize;
        var store = new ShardStore(Options.Create(new CacheOptions { ShardSize = size, CapacityBytes = 4L * size }), new CacheInstruments());
        long Load(string id, int seed, out byte[] buffer)
        {
            buffer = store.Rent(size);
            new Random(seed).NextBytes(buffer.AsSpan(0, size));
            return store.Add(id, buffer, size, Crc64Xz.Compute(buffer.AsSpan(0, size)));
        }

        long h = Load("a", 1, out var a);
        Assert.True(store.TryLease(h, out var lease));
        using (lease)
        {
            Assert.True(lease.Verify(ShardCrcs.BlockSize, 10, out _, out _));
            a[3 * ShardCrcs.BlockSize + 5] ^= 0x10;
            Assert.True(lease.Verify(0, 2 * ShardCrcs.BlockSize, out _, out _), "blocks 0 and 1 are intact");
            Assert.False(lease.Verify(3 * ShardCrcs.BlockSize, 6, out _, out _));
            Assert.False(lease.Verify(2 * ShardCrcs.BlockSize + 1, ShardCrcs.BlockSize, out _, out _), "the range ends in block 3");
            Assert.False(lease.Verify(0, size, out _, out _));
        }

        // Damaged before anything was checked: the first check of any part reads the whole shard against its CRC.
        long h2 = Load("b", 2, out var b);
        b[size - 1] ^= 0x01;
        Assert.True(store.TryLease(h2, out var lease2));
        using (lease2)
            Assert.False(lease2.Verify(0, 100, out _, out _));
    }

    [Fact]
    public void Crcs_GivenAtAdd_SpareTheFirstFullRead()
    {
        const int size = 3 * ShardCrcs.BlockSize + 1000;
        var store = new ShardStore(Options.Create(new CacheOptions { ShardSize = size, CapacityBytes = 2L * size }), new CacheInstruments());
        var buffer = store.Rent(size);
        new Random(3).NextBytes(buffer.AsSpan(0, size));

        var crcs = ShardCrcs.Compute(buffer.AsSpan(0, size));
        long h = store.Add("a", buffer, size, crcs.Whole, crcs);
        buffer[size - 1] ^= 0x80;
        Assert.True(store.TryLease(h, out var lease));
        using (lease)
        {
            Assert.True(lease.Verify(0, 10, out _, out _), "block 0 is intact, and only it is read");
            Assert.False(lease.Verify(size - 1, 1, out _, out _));
        }
    }

    [Fact]
    public void Verify_ShardNoLargerThanABlock_ChecksItWhole()
    {
        var store = NewStore(2);
        var buffer = Fill(store, 7);
        long h = store.Add("s", buffer, Shard, Crc64Xz.Compute(buffer.AsSpan(0, Shard)));
        Assert.True(store.TryLease(h, out var lease));
        using (lease)
        {
            Assert.True(lease.Verify(100, 10, out _, out _));
            buffer[Shard - 1] = 8;
            Assert.False(lease.Verify(100, 10, out _, out _));
        }
    }

    [Fact]
    public void Add_Handles_AreRandomAndNeverRepeat()
    {
        // Sequential handles let an old URL fetch another shard, and started at 1 again after every restart.
        var store = NewStore(64);
        var handles = Enumerable.Range(0, 64).Select(i => store.Add($"s{i}", Fill(store, (byte)i), Shard, 0)).ToList();
        Assert.Equal(64, handles.Distinct().Count());
        Assert.All(handles, h => Assert.True(h > 0));
        Assert.DoesNotContain(handles, h => h <= 64);
        var other = NewStore(64);
        Assert.DoesNotContain(other.Add("s0", Fill(other, 0), Shard, 0), handles);
    }

    [Fact]
    public void Lease_HeldAcrossEviction_KeepsItsBytesUntilDisposed()
    {
        var store = NewStore(2);
        long h = store.Add("a", Fill(store, 0xAA), Shard, 0);
        Assert.True(store.TryLease(h, out var lease));

        // Evict "a" and churn the pool: its buffer must not be handed out while leased.
        for (int i = 0; i < 6; i++)
            store.Add("x" + i, Fill(store, (byte)i), Shard, 0);

        Assert.False(store.TryLease(h, out _));
        Assert.True(lease.Memory.Span.IndexOfAnyExcept((byte)0xAA) < 0, "a leased buffer was reused while still being read");
        lease.Dispose();
        Assert.True(store.AllocatedBytes <= 3L * Shard + Shard, $"allocated {store.AllocatedBytes}");
    }

    [Fact]
    public void UsedBytes_UnderChurn_NeverExceedsCapacity()
    {
        var store = NewStore(4);
        var rng = new Random(3);
        for (int i = 0; i < 2000; i++)
        {
            string id = "s" + rng.Next(20);
            if (!store.TryGetHandle(id, out _, out _, out _))
            {
                int length = rng.Next(2) == 0 ? Shard : rng.Next(1, Shard);
                store.Add(id, store.Rent(length), length, 0);
            }
            Assert.True(store.UsedBytes <= store.Capacity, $"used {store.UsedBytes} > capacity {store.Capacity}");
        }
        Assert.True(store.AllocatedBytes <= store.Capacity + Shard, $"allocated {store.AllocatedBytes}");
    }

    [Fact]
    public void Remove_DropsTheShard_SoTheNextRequestReloads()
    {
        var store = NewStore(2);
        long h = store.Add("a", Fill(store, 1), Shard, 42);
        Assert.True(store.TryGetHandle("a", out long got, out ulong crc, out int length));
        Assert.Equal((h, 42UL, Shard), (got, crc, length));

        store.Remove(h);

        Assert.False(store.TryGetHandle("a", out _, out _, out _));
        Assert.Equal(0, store.UsedBytes);
    }

    [Theory]
    [InlineData(1000, 1L << 30, "Cache:ShardSize")]
    [InlineData(8 << 20, 1L << 20, "Cache:CapacityBytes")]
    public void Validator_BadOption_NamesIt(int shardSize, long capacity, string option)
    {
        var result = new CacheOptionsValidator().Validate(null, new CacheOptions { ShardSize = shardSize, CapacityBytes = capacity });
        Assert.True(result.Failed);
        Assert.Contains(option, result.FailureMessage, StringComparison.Ordinal);
    }
}
