using System.Diagnostics;
using OssOrleans.Client;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// Checkpoint writes: a large object written through the cluster (parallel parts, write-through) against one PutObject
/// straight to the origin, with the simulator's upload caps (100 MB/s per connection, 500 MB/s in all). Then the object is
/// read back through the cluster, where write-through should leave nothing to fetch from the origin.
/// </summary>
internal static class Checkpoint
{
    private const int Repeats = 3;

    /// <summary>
    /// Between repetitions, not timed: the in-process origin keeps every stored version in fresh arrays, and an overwritten
    /// version is garbage only until the GC runs. Without a collection here, by the third 512 MiB write the heap grew
    /// into pages this VM had never touched, and clearing them took a third of the machine during that write (perf):
    /// a cost of the test origin's memory, which a real origin on another machine does not put on the client.
    /// </summary>
    private static Task ReleaseOriginGarbage()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return Task.CompletedTask;
    }

    public static async Task<BenchReport> RunAsync(bool quick)
    {
        var report = new BenchReport("checkpoint", quick);
        long size = quick ? 512L << 20 : 2L << 30;
        long singlePutSize = quick ? 128L << 20 : 256L << 20;
        var settings = SimulatorSettings.OssIntranetLike;
        // MD5 ETags would cost the simulator a core at these rates on a 2-core machine; the ETags stay unique per write.
        settings.Md5ETags = false;
        // As OSS does, the origin reports the CRC-64 of each part it stores; the silo then checks parts by CRC instead of
        // signing their SHA-256 (see S3StoreOptions.SignPayload). Against an origin that does not, parts are signed.
        settings.Crc64Header = true;
        await using var c = await BenchCluster.StartAsync(settings, cacheCapacity: size + (1L << 30), pretouch: true);

        // The writer's source: one random buffer written over and over (its content does not matter to the rates).
        var source = BenchCluster.RandomObject(256L << 20);
        const string key = "ckpt/model.bin";
        var writeOptions = new WriteOptions();
        long originGetsOnReadBack = 0;
        double readBack = 0;
        async Task WriteAsync(string k)
        {
            await using var w = await c.Client.OpenWriteAsync($"oss://{BenchCluster.Bucket}/{k}", writeOptions);
            for (long at = 0; at < size; at += 4 << 20)
                await w.WriteAsync(source.AsMemory((int)(at % source.Length), 4 << 20));
            var info = await w.CompleteAsync();
            if (info.Size != size)
                throw new InvalidOperationException($"wrote {info.Size} bytes, expected {size}");
        }

        // Warm-up, not measured: a freshly started silo JITs (and re-JITs, with tiered PGO) thousands of methods of the
        // upload path during its first writes, a quarter of the machine for several seconds. A silo lives for days; the
        // figure wanted is its steady state. The baseline gets the same treatment below.
        await WriteAsync("ckpt/warmup.bin");
        double write = await BenchReport.MedianSecondsAsync(Repeats, () => WriteAsync(key), before: ReleaseOriginGarbage);

        // Read back right after the last write.
        long getsBefore = c.Origin.Counters.GetBodyBytes;
        var sw = Stopwatch.StartNew();
        await using (var r = await c.Client.OpenReadAsync($"oss://{BenchCluster.Bucket}/{key}"))
        {
            if (await BenchCluster.DrainAsync(r) != size)
                throw new InvalidOperationException("read back a different length");
        }
        readBack = sw.Elapsed.TotalSeconds;
        originGetsOnReadBack = c.Origin.Counters.GetBodyBytes - getsBefore;

        // The baseline: one PutObject straight to the origin (a single connection, so its per-connection cap).
        using var direct = new S3ObjectStore(new S3StoreOptions { Endpoint = c.Origin.Endpoint.ToString(), AccessKeyId = "bench", AccessKeySecret = "bench" });
        var single = source.AsMemory(0, (int)singlePutSize);
        await direct.PutAsync(BenchCluster.Bucket, "ckpt/single-put-warmup.bin", single);
        double put = await BenchReport.MedianSecondsAsync(Repeats, () => direct.PutAsync(BenchCluster.Bucket, "ckpt/single-put.bin", single), before: ReleaseOriginGarbage);

        double writeBps = size / write, putBps = singlePutSize / put;
        report.Setting("object_bytes", size);
        report.Setting("part_size", $"{writeOptions.PartSize} (x{writeOptions.UploadConcurrency} in flight), write-through on");
        report.Setting("single_put_bytes", singlePutSize);
        report.Setting("silos", "1 (separate process)");
        report.Setting("warm_up", "one unmeasured write and one unmeasured PutObject before the measured repeats");
        report.Setting("origin", settings.ToString());
        report.Figure("write_seconds", write, "s", "OpenWriteAsync .. CompleteAsync, median of 3");
        report.Figure("write_MBps", writeBps / 1e6, "MB/s");
        report.Figure("single_put_MBps", putBps / 1e6, "MB/s", "one PutObject straight to the origin, median of 3");
        report.Figure("read_back_MBps", size / readBack / 1e6, "MB/s", "read right after the write, through the cluster");
        report.Figure("read_back_origin_bytes", originGetsOnReadBack, "B", "write-through: 0 expected");
        report.Ratio("write_vs_cap", writeBps / settings.AggregateUploadBytesPerSecond, "of the origin's aggregate upload cap");
        report.Ratio("write_vs_single_put", writeBps / putBps);
        return report;
    }
}
