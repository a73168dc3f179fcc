using System.Diagnostics.Metrics;
using OssOrleans.Grains.Cache;

namespace OssOrleans.UnitTests.Cache;

public sealed class CacheInstrumentsTests
{
    [Fact]
    public void Counters_PublishOnTheCacheMeter_AndKeepTheSameTotals()
    {
        using var instruments = new CacheInstruments();
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CacheInstruments.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (seen) seen[instrument.Name] = seen.GetValueOrDefault(instrument.Name) + value;
        });
        listener.Start();

        instruments.Hit();
        instruments.Miss();
        instruments.FromOrigin(100);
        instruments.Served(250, localSocket: false);
        instruments.OriginRequest();
        instruments.Evicted(64);
        instruments.CrcFailure();

        Assert.Equal(1, seen["ossorleans.cache.hits"]);
        Assert.Equal(1, seen["ossorleans.cache.misses"]);
        Assert.Equal(100, seen["ossorleans.origin.bytes"]);
        Assert.Equal(250, seen["ossorleans.cache.bytes_served"]);
        Assert.Equal(1, seen["ossorleans.origin.requests"]);
        Assert.Equal(1, seen["ossorleans.cache.evictions"]);
        Assert.Equal(1, seen["ossorleans.cache.crc_failures"]);
        Assert.Equal((1L, 1L, 100L, 250L, 1L, 1L), (instruments.Hits, instruments.Misses, instruments.BytesFromOrigin, instruments.BytesServed, instruments.Evictions, instruments.CrcFailures));
    }
}
