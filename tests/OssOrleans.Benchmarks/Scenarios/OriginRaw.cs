using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// What parallel ranged GETs buy against an OSS-like origin: one stream against 16 streams reading the same object
/// through the S3 adapter, from the simulator throttled like an OSS intranet endpoint. Bytes are counted at the origin.
/// </summary>
internal static class OriginRaw
{
    public static async Task<BenchReport> RunAsync(bool quick)
    {
        var report = new BenchReport("origin-raw", quick);
        int size = quick ? 256 << 20 : 512 << 20;
        const int streams = 16;
        var settings = SimulatorSettings.OssIntranetLike;
        await using var sim = await OriginSimulator.StartNewAsync(settings, "bench");
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        var info = sim.PutObject("bench", "raw/object.bin", data);
        using var store = new S3ObjectStore(new S3StoreOptions { Endpoint = sim.Endpoint.ToString(), AccessKeyId = "bench", AccessKeySecret = "bench" });
        var target = GC.AllocateUninitializedArray<byte>(size);

        sim.ResetCounters();
        double single = await BenchReport.MedianSecondsAsync(3, () => store.ReadRangeAsync("bench", "raw/object.bin", info.ETag, 0, target));
        long singleBytes = sim.Counters.GetBodyBytes;
        Check(data, target);

        sim.ResetCounters();
        int chunk = size / streams;
        double multi = await BenchReport.MedianSecondsAsync(3, () => Task.WhenAll(Enumerable.Range(0, streams).Select(i =>
            store.ReadRangeAsync("bench", "raw/object.bin", info.ETag, (long)i * chunk, target.AsMemory(i * chunk, chunk)))));
        long multiBytes = sim.Counters.GetBodyBytes;
        Check(data, target);

        report.Setting("object_bytes", size);
        report.Setting("origin", settings.ToString());
        report.Setting("streams", streams);
        report.Figure("single_stream_mbps", size / single / 1e6, "MB/s", "one ranged GET of the whole object, median of 3");
        report.Figure("multi_stream_mbps", size / multi / 1e6, "MB/s", $"{streams} ranged GETs in parallel, median of 3");
        report.Figure("origin_bytes_single", singleBytes, "bytes", "served by the origin over 3 runs");
        report.Figure("origin_bytes_multi", multiBytes, "bytes", "served by the origin over 3 runs");
        report.Ratio("multi_vs_single_stream", single / multi, $"{streams} streams against 1");
        report.Ratio("multi_vs_aggregate_cap", size / multi / settings.AggregateBytesPerSecond, "how close 16 streams come to the origin's aggregate cap");
        return report;
    }

    private static void Check(byte[] expected, byte[] actual)
    {
        if (!expected.AsSpan().SequenceEqual(actual))
            throw new InvalidOperationException("origin-raw read different bytes than were written");
    }
}
