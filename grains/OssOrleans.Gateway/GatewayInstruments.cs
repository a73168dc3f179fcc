using System.Diagnostics.Metrics;

namespace OssOrleans.Gateway;

/// <summary>The gateway's counters on the <c>OssOrleans.Gateway</c> meter: requests, refusals, answers cut mid-body, object bytes.</summary>
internal sealed class GatewayInstruments : IDisposable
{
    public const string MeterName = "OssOrleans.Gateway";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _cut;
    private readonly Counter<long> _bytes;
    private long _refusedCount;

    public GatewayInstruments(IMeterFactory? meters = null)
    {
        var meter = _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _requests = meter.CreateCounter<long>("ossorleans.gateway.requests", description: "S3 requests received");
        _refused = meter.CreateCounter<long>("ossorleans.gateway.refused", description: "S3 requests refused before any work (authentication, authorization, malformed)");
        _cut = meter.CreateCounter<long>("ossorleans.gateway.cut", description: "Answers cut after they started (a failure mid-body)");
        _bytes = meter.CreateCounter<long>("ossorleans.gateway.bytes", "By", "Object bytes served or stored");
    }

    /// <summary>Refusals since start (for tests and the admin view).</summary>
    public long RefusedCount => Interlocked.Read(ref _refusedCount);

    public void Request() => _requests.Add(1);

    public void Refused()
    {
        Interlocked.Increment(ref _refusedCount);
        _refused.Add(1);
    }

    public void Cut() => _cut.Add(1);

    public void Bytes(long bytes)
    {
        if (bytes > 0)
            _bytes.Add(bytes);
    }

    public void Dispose() => _meter.Dispose();
}
