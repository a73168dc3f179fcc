using System.Diagnostics.Metrics;

namespace OssOrleans.Grains.Cache;

/// <summary>
/// The cache's counters, published on the <c>OssOrleans.Cache</c> meter and also kept as totals, so the stats grain
/// and the admin API read the same numbers that metrics exporters see.
/// </summary>
internal sealed class CacheInstruments : IDisposable
{
    public const string MeterName = "OssOrleans.Cache";

    private readonly Meter _meter;
    private readonly Counter<long> _hits, _misses, _bytesServed, _bytesFromOrigin, _originRequests, _evictions, _crcFailures;
    private long _hitCount, _missCount, _served, _servedLocal, _fromOrigin, _requests, _evictionCount, _crcFailureCount;

    public CacheInstruments(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _hits = _meter.CreateCounter<long>("ossorleans.cache.hits", "{shard}", "Shard requests answered from silo memory");
        _misses = _meter.CreateCounter<long>("ossorleans.cache.misses", "{shard}", "Shard requests that loaded from the origin");
        _bytesServed = _meter.CreateCounter<long>("ossorleans.cache.bytes_served", "By", "Bytes sent to clients and peers over the data plane");
        _bytesFromOrigin = _meter.CreateCounter<long>("ossorleans.origin.bytes", "By", "Bytes read from the origin");
        _originRequests = _meter.CreateCounter<long>("ossorleans.origin.requests", "{request}", "Ranged reads sent to the origin");
        _evictions = _meter.CreateCounter<long>("ossorleans.cache.evictions", "{shard}", "Shards evicted to stay within capacity");
        _crcFailures = _meter.CreateCounter<long>("ossorleans.cache.crc_failures", "{shard}", "Shards whose CRC-64 did not match when served or loaded");
    }

    public long Hits => Interlocked.Read(ref _hitCount);
    public long Misses => Interlocked.Read(ref _missCount);
    public long BytesServed => Interlocked.Read(ref _served);
    public long BytesServedLocal => Interlocked.Read(ref _servedLocal);
    public long BytesFromOrigin => Interlocked.Read(ref _fromOrigin);
    public long OriginRequests => Interlocked.Read(ref _requests);
    public long Evictions => Interlocked.Read(ref _evictionCount);
    public long CrcFailures => Interlocked.Read(ref _crcFailureCount);

    public void Hit() { Interlocked.Increment(ref _hitCount); _hits.Add(1); }
    public void Miss() { Interlocked.Increment(ref _missCount); _misses.Add(1); }
    public void Served(long bytes, bool localSocket)
    {
        Interlocked.Add(ref _served, bytes);
        if (localSocket)
            Interlocked.Add(ref _servedLocal, bytes);
        _bytesServed.Add(bytes, new KeyValuePair<string, object?>("transport", localSocket ? "unix" : "tcp"));
    }

    public void FromOrigin(long bytes) { Interlocked.Add(ref _fromOrigin, bytes); _bytesFromOrigin.Add(bytes); }
    public void OriginRequest() { Interlocked.Increment(ref _requests); _originRequests.Add(1); }
    public void Evicted(long bytes) { Interlocked.Increment(ref _evictionCount); _evictions.Add(1); }
    public void CrcFailure() { Interlocked.Increment(ref _crcFailureCount); _crcFailures.Add(1); }

    public void Dispose() => _meter.Dispose();
}
