using Microsoft.Extensions.Options;
using OssOrleans.Grains.Grains;
using OssOrleans.Grains.Hosting;

namespace OssOrleans.Grains.Listing;

/// <summary>
/// This silo's record of recent writes through the cluster (S3 gateway writes, completed uploads), so a list partition
/// on this silo does not replay a cached listing that one of them changed: S3 clients list right after they write and
/// expect to see the write. Writes are numbered; a partition notes the number when its run starts, and the run is
/// stale when a later write falls under its prefix. Entries are kept for the list cache TTL (older runs are not replayed
/// anyway) and at most <see cref="MaxKeysPerBucket"/> per bucket; past that the whole bucket counts as written.
/// </summary>
internal sealed class ListWriteLog(CacheClock clock, IOptions<CacheOptions> options)
{
    internal const int MaxKeysPerBucket = 10_000;

    private readonly object _lock = new();
    private readonly Dictionary<string, BucketWrites> _buckets = new(StringComparer.Ordinal);
    private long _version;

    /// <summary>The number of the last write noted; a run started now has seen every write up to it.</summary>
    public long Version
    {
        get { lock (_lock) return _version; }
    }

    public void Note(string bucket, IEnumerable<string> keys)
    {
        var now = clock.Time.GetUtcNow();
        var ttl = options.Value.ListCacheTtl;
        lock (_lock)
        {
            if (!_buckets.TryGetValue(bucket, out var writes))
                _buckets[bucket] = writes = new BucketWrites();
            while (writes.Keys.Count > 0 && now - writes.Keys.Peek().At > ttl)
                writes.Keys.Dequeue();
            foreach (string key in keys)
            {
                long version = ++_version;
                if (writes.Keys.Count >= MaxKeysPerBucket)
                {
                    writes.Keys.Clear();
                    writes.WholeBucket = version;
                    continue;
                }
                writes.Keys.Enqueue(new Write(key, version, now));
            }
        }
    }

    /// <summary>Whether a write noted after <paramref name="version"/> may change the listing of <paramref name="partition"/>.</summary>
    public bool ChangedSince(ListPartitionKey partition, long version)
    {
        lock (_lock)
        {
            if (version == _version || !_buckets.TryGetValue(partition.Bucket, out var writes))
                return false;
            if (writes.WholeBucket > version)
                return true;
            foreach (var w in writes.Keys)
            {
                // A delimiter listing rolls keys up into prefixes, which may sort elsewhere in the range: any key under
                // the prefix counts. Without one, only keys inside the partition's range do.
                if (w.Version > version && w.Key.StartsWith(partition.Prefix, StringComparison.Ordinal)
                    && (partition.Delimiter is not null || partition.InRange(w.Key)))
                    return true;
            }
            return false;
        }
    }

    private sealed class BucketWrites
    {
        public Queue<Write> Keys { get; } = new();

        public long WholeBucket { get; set; }
    }

    private readonly record struct Write(string Key, long Version, DateTimeOffset At);
}
