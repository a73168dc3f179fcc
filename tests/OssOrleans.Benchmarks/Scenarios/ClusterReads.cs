using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using OssOrleans.Client;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>Reads through the cluster: hot (cached), cold (from the throttled origin), and a fleet of client processes.</summary>
internal static class ClusterReads
{
    private const int Repeats = 3;

    /// <summary>A 1 GiB object already in the cluster, read sequentially, against Kestrel-to-HttpClient loopback in the same run.</summary>
    public static async Task<BenchReport> HotReadAsync(bool quick)
    {
        var report = new BenchReport("hot-read", quick);
        long size = 1L << 30;
        // Room for the object and the warm-up object, so nothing of the object is evicted between the reads.
        await using var c = await BenchCluster.StartAsync(new SimulatorSettings(), cacheCapacity: size + (512L << 20), BenchCluster.ClientOptions(readAhead: 4));
        c.Origin.PutObject(BenchCluster.Bucket, "hot/1gib.bin", BenchCluster.RandomObject(size));
        string uri = $"oss://{BenchCluster.Bucket}/hot/1gib.bin";
        await using (var warm = await c.Client.OpenReadAsync(uri))
            await BenchCluster.DrainAsync(warm);
        long originAfterWarm = c.Origin.Counters.GetBodyBytes;

        // A second client that does not check CRCs reads the same object in the same run, the two taking turns (so
        // neither gets the other's warmer JIT or quieter moment): what the check costs.
        var unchecked_ = BenchCluster.ClientOptions(readAhead: 4);
        BenchCluster.Authenticate(unchecked_);
        unchecked_.VerifyCrc = false;
        unchecked_.Gateways.Clear();
        unchecked_.Gateways.Add(c.Silo.Gateway);
        await using var noCrc = await OssCacheClient.ConnectAsync(unchecked_);
        await using (var warm = await noCrc.OpenReadAsync(uri))
            await BenchCluster.DrainAsync(warm);

        double loopback = await LoopbackLimit.MeasureAsync(size, streams: 1, repeats: Repeats);
        var checkedTimes = new List<double>();
        var uncheckedTimes = new List<double>();
        for (int i = 0; i < Repeats; i++)
        {
            checkedTimes.Add(await BenchReport.MedianSecondsAsync(1, () => ReadAllAsync(c.Client)));
            uncheckedTimes.Add(await BenchReport.MedianSecondsAsync(1, () => ReadAllAsync(noCrc)));
        }
        double seconds = Median(checkedTimes), secondsNoCrc = Median(uncheckedTimes);
        double hot = size / seconds / 1e9;

        async Task ReadAllAsync(OssCacheClient client)
        {
            await using var s = await client.OpenReadAsync(uri);
            if (await BenchCluster.DrainAsync(s) != size)
                throw new InvalidOperationException("hot read returned the wrong length");
        }

        report.Setting("object_bytes", size);
        report.Setting("read_ahead_shards", 4);
        report.Setting("trust", BenchCluster.TrustSetting);
        report.Figure("hot_read_no_client_crc_gbps", size / secondsNoCrc / 1e9, "GB/s", "the same read, client CRC checks off, median of 3");
        report.Figure("loopback_gbps", loopback, "GB/s", "Kestrel -> HttpClient, preallocated array, same run");
        report.Figure("hot_read_gbps", hot, "GB/s", "OpenReadAsync, sequential, 1 MiB reads, median of 3");
        report.Figure("origin_bytes_warm", originAfterWarm, "bytes", "one warm-up read");
        report.Figure("origin_bytes_hot", c.Origin.Counters.GetBodyBytes - originAfterWarm, "bytes", "during the hot reads (should be 0)");
        report.Ratio("hot_read_vs_loopback", hot / loopback);
        return report;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    /// <summary>First read of an object from the OSS-like throttled origin, against one GetObject stream in the same run.</summary>
    public static async Task<BenchReport> ColdReadAsync(bool quick)
    {
        var report = new BenchReport("cold-read", quick);
        long size = quick ? 512L << 20 : 1L << 30;
        var settings = SimulatorSettings.OssIntranetLike;
        // The client's defaults: 4 shards fetched ahead into this process, 16 more loaded ahead in the cluster.
        var clientOptions = new OssClientOptions();
        // Pre-touched shard memory: what is measured is fetching from the origin, not this VM's first touch of fresh pages.
        await using var c = await BenchCluster.StartAsync(settings, cacheCapacity: 2L << 30, clientOptions, pretouch: true);
        var data = BenchCluster.RandomObject(size);
        for (int i = 0; i <= 2 * Repeats; i++)
            c.Origin.PutObject(BenchCluster.Bucket, $"cold/rep{i}.bin", data);

        using var direct = new S3ObjectStore(new S3StoreOptions { Endpoint = c.Origin.Endpoint.ToString(), AccessKeyId = "bench", AccessKeySecret = "bench" });
        var etag = c.Origin.HeadObject(BenchCluster.Bucket, "cold/rep0.bin")!.ETag;
        var target = GC.AllocateUninitializedArray<byte>((int)size);
        double single = await BenchReport.MedianSecondsAsync(Repeats, () => direct.ReadRangeAsync(BenchCluster.Bucket, "cold/rep0.bin", etag, 0, target));

        c.Origin.ResetCounters();
        int rep = 0;
        double cold = await BenchReport.MedianSecondsAsync(Repeats, async () =>
        {
            // A new key each time: every repetition is a first read.
            await using var s = await c.Client.OpenReadAsync($"oss://{BenchCluster.Bucket}/cold/rep{++rep}.bin");
            if (await BenchCluster.DrainAsync(s) != size)
                throw new InvalidOperationException("cold read returned the wrong length");
        });

        double originBytesPerColdRead = (double)c.Origin.Counters.GetBodyBytes / Repeats;
        double prefetchOnly = await BenchReport.MedianSecondsAsync(Repeats, async () =>
        {
            var info = await c.Client.StatAsync($"oss://{BenchCluster.Bucket}/cold/rep{++rep}.bin");
            await c.Client.Cluster.GetGrain<IObjectGrain>(info.Uri.ToGrainKey()).PrefetchAsync(info.ETag, 0, size);
        });
        report.Figure("prefetch_only_mbps", size / prefetchOnly / 1e6, "MB/s", "the cluster pulling the object without a reader, median of 3");
        double coldBps = size / cold, singleBps = size / single;
        report.Setting("object_bytes", size);
        report.Setting("origin", settings.ToString());
        report.Setting("read_ahead_shards", $"{clientOptions.ReadAheadShards} into the client, {clientOptions.ClusterReadAheadShards} more loaded in the cluster (the defaults)");
        report.Setting("silo", "1 process, Cache:CapacityBytes=2 GiB, Cache:PretouchBuffers=true");
        report.Setting("trust", BenchCluster.TrustSetting);
        report.Figure("single_stream_mbps", singleBps / 1e6, "MB/s", "one ranged GetObject of the whole object, median of 3");
        report.Figure("cold_read_mbps", coldBps / 1e6, "MB/s", "OpenReadAsync of an uncached object, median of 3");
        report.Figure("origin_bytes_per_cold_read", originBytesPerColdRead, "bytes", $"object is {size}");
        report.Ratio("cold_read_vs_cap", coldBps / settings.AggregateBytesPerSecond, "of the origin's aggregate cap");
        report.Ratio("cold_read_vs_single_stream", coldBps / singleBps);
        return report;
    }

    /// <summary>Three client processes read the same object at once through one cluster; bytes are counted at the origin.</summary>
    public static async Task<BenchReport> FleetReadAsync(bool quick)
    {
        var report = new BenchReport("fleet-read", quick);
        long size = quick ? 512L << 20 : 1L << 30;
        const int clients = 3;
        var settings = SimulatorSettings.OssIntranetLike;
        await using var c = await BenchCluster.StartAsync(settings, cacheCapacity: 4L << 30, pretouch: true);
        var data = BenchCluster.RandomObject(size);
        string expected = Convert.ToHexString(SHA256.HashData(data));
        for (int i = 1; i <= Repeats; i++)
            c.Origin.PutObject(BenchCluster.Bucket, $"fleet/rep{i}.bin", data);

        var ratios = new List<double>();
        int rep = 0;
        double fleet = await BenchReport.MedianSecondsAsync(Repeats, async () =>
        {
            string uri = $"oss://{BenchCluster.Bucket}/fleet/rep{++rep}.bin";
            long before = c.Origin.Counters.GetBodyBytes;
            var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => RunClientProcessAsync(c.Silo.Gateway, uri)));
            foreach (var r in results)
            {
                if (r != expected)
                    throw new InvalidOperationException($"a fleet client read different bytes: {r}");
            }
            ratios.Add((double)(c.Origin.Counters.GetBodyBytes - before) / size);
        });

        // The peer: the same three readers without the cluster, each streaming the object from the origin on its own.
        using var direct = new S3ObjectStore(new S3StoreOptions { Endpoint = c.Origin.Endpoint.ToString(), AccessKeyId = "bench", AccessKeySecret = "bench" });
        var etag = c.Origin.HeadObject(BenchCluster.Bucket, "fleet/rep1.bin")!.ETag;
        long beforeIndependent = c.Origin.Counters.GetBodyBytes;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => direct.CopyRangeToAsync(BenchCluster.Bucket, "fleet/rep1.bin", etag, 0, size, Stream.Null)));
        double independent = sw.Elapsed.TotalSeconds;
        double independentRatio = (double)(c.Origin.Counters.GetBodyBytes - beforeIndependent) / size;

        ratios.Sort();
        report.Setting("object_bytes", size);
        report.Setting("clients", $"{clients} separate processes");
        report.Setting("trust", BenchCluster.TrustSetting);
        report.Setting("origin", settings.ToString());
        report.Figure("fleet_seconds", fleet, "s", "3 client processes reading at once, median of 3");
        report.Figure("independent_seconds", independent, "s", "3 single-stream downloads straight from the origin, once");
        report.Figure("independent_origin_bytes_ratio", independentRatio, "x object", "the same 3 reads without the cluster");
        report.Ratio("origin_bytes_ratio", ratios[ratios.Count / 2], "origin bytes / object size, median of 3 (3 independent downloads: 3.0)");
        report.Ratio("fleet_time_vs_independent", fleet / independent);
        return report;
    }

    /// <summary>The body of one fleet client process: connect, read the object, print its SHA-256.</summary>
    public static async Task<int> FleetClientMainAsync(string gateway, string uri)
    {
        // Credentials come from the environment the scenario set, as a user's client would take them.
        var options = new OssClientOptions { VerifyCrc = BenchCluster.Trust };
        options.Gateways.Clear();
        options.Gateways.Add(gateway);
        await using var client = await OssCacheClient.ConnectAsync(options);
        await using var stream = await client.OpenReadAsync(uri);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
            sha.AppendData(buffer, 0, n);
        Console.WriteLine("fleet-client-sha256 " + Convert.ToHexString(sha.GetHashAndReset()));
        return 0;
    }

    private static async Task<string> RunClientProcessAsync(string gateway, string uri)
    {
        return await SelfProcess.RunAsync("fleet-client-sha256", "fleet-client", gateway, uri);
    }
}
