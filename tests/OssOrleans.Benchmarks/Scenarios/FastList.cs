using System.Diagnostics;
using OssOrleans.Client;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// Lists 1,000,000 keys (300,000 in quick mode) in a flat and in a tree layout from the OSS-like simulator (20 ms and
/// 1000 keys per list page): sequential ListObjectsV2 paging through the S3 adapter against the cluster's fast list
/// through a silo process, side by side, each 3 times (median).
/// </summary>
internal static class FastList
{
    private const string Bucket = "bench";
    private const int Repeats = 3;

    private static readonly (string Name, Func<int, string> Key)[] Layouts =
    [
        ("flat", i => $"flat/{i:D8}.jpg"),
        // 100 classes of 100 batches of 100 images at 1M keys: directories two levels deep, as a dataset's tree.
        ("tree", i => $"tree/class{i / 10_000:D3}/batch{i / 100 % 100:D2}/img{i:D7}.jpg"),
    ];

    public static async Task<BenchReport> RunAsync(bool quick)
    {
        var report = new BenchReport("fast-list", quick);
        // Quick mode lists 300,000 keys: a fast list has a fixed start-up of about 0.1-0.2 s (the first pages, the first
        // splits), too large a share of 200,000 keys' 0.4 s to measure the steady speed-up.
        int count = quick ? 300_000 : 1_000_000;
        var settings = SimulatorSettings.OssIntranetLike;
        await using var origin = await OriginSimulator.StartNewAsync(settings, Bucket);
        byte[] body = new byte[16];
        foreach (var (name, key) in Layouts)
            origin.PutSharedObjects(Bucket, Enumerable.Range(0, count).Select(key), body);
        origin.PutSharedObjects(Bucket, Enumerable.Range(0, 100_000).Select(i => $"warmup/{i / 1000:D3}/{i:D6}"), body);

        // List caching off, so that every repetition lists from the origin; the silo's default list concurrency.
        await using var silo = await SiloProcess.StartAsync([
            "--Origin:Kind=S3", $"--Origin:S3:Endpoint={origin.Endpoint}",
            "--Origin:S3:AccessKeyId=bench", "--Origin:S3:AccessKeySecret=bench",
            "--Cache:ListCacheTtl=00:00:00",
            "--Logging:LogLevel:Default=Warning",
        ]);
        var clientOptions = new OssClientOptions();
        clientOptions.Gateways.Clear();
        clientOptions.Gateways.Add(silo.Gateway);
        await using var client = await OssCacheClient.ConnectAsync(clientOptions);
        using var direct = new S3ObjectStore(new S3StoreOptions { Endpoint = origin.Endpoint.ToString(), AccessKeyId = "bench", AccessKeySecret = "bench" });

        // Warm-up, not measured: the JIT (tiered compilation) spent half a core for the first dozen or so listings of a
        // fresh silo (dotnet-counters), which doubled their CPU.
        await SequentialAsync(direct, "warmup/000/");
        for (int i = 0; i < 10; i++)
            await FastAsync(client, $"oss://{Bucket}/warmup/", sorted: i % 5 == 4);

        var speedups = new List<double>();
        foreach (var (name, key) in Layouts)
        {
            var expected = Checksum.Of(Enumerable.Range(0, count).Select(key));
            string prefix = name + "/";

            long before = origin.Counters.Lists;
            double sequential = await BenchReport.MedianSecondsAsync(Repeats, async () => Check(await SequentialAsync(direct, prefix), expected, "sequential"));
            double sequentialRequests = (origin.Counters.Lists - before) / (double)Repeats;

            long peakRss = 0, rssBefore = Environment.WorkingSet;
            before = origin.Counters.Lists;
            double fast = await BenchReport.MedianSecondsAsync(Repeats, async () =>
            {
                var (sum, peak) = await FastAsync(client, $"oss://{Bucket}/{prefix}", sorted: false);
                Check(sum, expected, "fast");
                peakRss = Math.Max(peakRss, peak);
            });
            double fastRequests = (origin.Counters.Lists - before) / (double)Repeats;

            var sortedWatch = Stopwatch.StartNew();
            Check((await FastAsync(client, $"oss://{Bucket}/{prefix}", sorted: true)).Sum, expected, "fast sorted");
            double sorted = sortedWatch.Elapsed.TotalSeconds;

            report.Figure($"{name}_sequential_seconds", sequential, "s", $"ListObjectsV2 paging through the S3 adapter, {count:N0} keys, median of {Repeats}");
            report.Figure($"{name}_fast_seconds", fast, "s", $"client.ListAsync (fast, unordered) through the silo, median of {Repeats}");
            report.Figure($"{name}_fast_sorted_seconds", sorted, "s", "client.ListAsync (fast, Sorted = true), once");
            report.Figure($"{name}_sequential_list_requests", sequentialRequests, "requests", "per listing, at the origin");
            report.Figure($"{name}_fast_list_requests", fastRequests, "requests", "per listing, at the origin (pages, directory probes, partition ends)");
            report.Figure($"{name}_client_rss_peak_mb", peakRss / 1e6, "MB", "this process (client and simulator) while streaming");
            report.Figure($"{name}_client_rss_growth_mb", (peakRss - rssBefore) / 1e6, "MB", $"over the {rssBefore / 1e6:0} MB before the fast lists");
            double speedup = sequential / fast;
            speedups.Add(speedup);
            report.Ratio($"fast_list_speedup_{name}", speedup, "sequential seconds / fast seconds");
        }

        report.Setting("keys_per_layout", count);
        report.Setting("layouts", "flat: flat/NNNNNNNN.jpg; tree: tree/classNNN/batchNN/imgNNNNNNN.jpg (100 x 100 x 100 at 1M)");
        report.Setting("origin", settings.ToString());
        report.Setting("silo", "1 process, Cache:MaxListConcurrency=32 (default), Cache:ListCacheTtl=0 (every listing from the origin)");
        report.Setting("client", "ListOptions defaults: Fast, unordered, Concurrency=64");
        report.Ratio("fast_list_speedup", speedups.Min(), "the smaller of flat and tree");
        return report;
    }

    private static async Task<Checksum> SequentialAsync(IObjectStore store, string prefix)
    {
        var sum = new Checksum();
        string? token = null;
        do
        {
            var page = await store.ListPageAsync(new ListRequest(Bucket, prefix) { ContinuationToken = token, MaxKeys = 1000 });
            foreach (var e in page.Entries)
                sum.Add(e.Key);
            token = page.NextContinuationToken;
        }
        while (token is not null);
        return sum;
    }

    // Streams the listing, sampling this process's resident memory every 20 ms.
    private static async Task<(Checksum Sum, long PeakRss)> FastAsync(OssCacheClient client, string uri, bool sorted)
    {
        var sum = new Checksum();
        long peak = Environment.WorkingSet;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), Environment.WorkingSet));
                await Task.Delay(20).ConfigureAwait(false);
            }
        });
        await foreach (var entry in client.ListAsync(uri, new ListOptions { Sorted = sorted }))
            sum.Add(entry.Key);
        await sampling.CancelAsync();
        await sampler;
        return (sum, Math.Max(peak, Environment.WorkingSet));
    }

    private static void Check(Checksum actual, Checksum expected, string what)
    {
        if (actual != expected)
            throw new InvalidOperationException($"{what} listing returned {actual.Count} keys (checksum {actual.Hash}); expected {expected.Count} ({expected.Hash})");
    }

    /// <summary>An order-independent fingerprint of a set of keys: their count and the sum of their 64-bit hashes.</summary>
    private sealed record Checksum
    {
        public long Count { get; private set; }

        public ulong Hash { get; private set; }

        public static Checksum Of(IEnumerable<string> keys)
        {
            var sum = new Checksum();
            foreach (var k in keys)
                sum.Add(k);
            return sum;
        }

        public void Add(string key)
        {
            Count++;
            Hash += System.IO.Hashing.XxHash64.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(key.AsSpan()));
        }
    }
}
