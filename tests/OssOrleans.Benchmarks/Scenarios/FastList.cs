using System.Diagnostics;
using System.Globalization;
using OssOrleans.Client;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// Lists 1,000,000 keys (400,000 in quick mode) in a flat and in a tree layout from the OSS-like simulator (20 ms and
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
        // Quick mode lists 400,000 keys: a fast list has a fixed start-up of about 0.1-0.2 s (the first pages, the first
        // splits), too large a share of 200,000 keys' 0.4 s to measure the steady speed-up. It skips the sorted run.
        int count = quick ? 400_000 : 1_000_000;
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

            before = origin.Counters.Lists;
            double fast = await BenchReport.MedianSecondsAsync(Repeats, async () => Check(await FastAsync(client, $"oss://{Bucket}/{prefix}", sorted: false), expected, "fast"));
            double fastRequests = (origin.Counters.Lists - before) / (double)Repeats;

            if (!quick)
            {
                var sortedWatch = Stopwatch.StartNew();
                Check(await FastAsync(client, $"oss://{Bucket}/{prefix}", sorted: true), expected, "fast sorted");
                report.Figure($"{name}_fast_sorted_seconds", sortedWatch.Elapsed.TotalSeconds, "s", "client.ListAsync (fast, Sorted = true), once");
            }

            // The client's memory, in a process of its own (this one also holds the simulator and its keys).
            var child = await RunClientProcessAsync(silo.Gateway, $"oss://{Bucket}/{prefix}");
            if (child.Count != expected.Count || child.Hash != expected.Hash)
                throw new InvalidOperationException($"the client process listed {child.Count} keys (checksum {child.Hash}); expected {expected.Count} ({expected.Hash})");

            report.Figure($"{name}_sequential_seconds", sequential, "s", $"ListObjectsV2 paging through the S3 adapter, {count:N0} keys, median of {Repeats}");
            report.Figure($"{name}_fast_seconds", fast, "s", $"client.ListAsync (fast, unordered) through the silo, median of {Repeats}");
            report.Figure($"{name}_sequential_list_requests", sequentialRequests, "requests", "per listing, at the origin");
            report.Figure($"{name}_fast_list_requests", fastRequests, "requests", "per listing, at the origin (pages, directory probes, partition ends)");
            report.Figure($"{name}_client_rss_peak_mb", child.PeakRss / 1e6, "MB", "a client process streaming the whole listing (fast, unordered; Server GC)");
            report.Figure($"{name}_client_rss_growth_mb", (child.PeakRss - child.RssBefore) / 1e6, "MB", $"over its {child.RssBefore / 1e6:0} MB once connected; holding all entries would take ~{count * 120 / 1e6:0} MB (~120 B an entry)");
            double speedup = sequential / fast;
            speedups.Add(speedup);
            report.Ratio($"fast_list_speedup_{name}", speedup, "sequential seconds / fast seconds");
        }

        report.Setting("keys_per_layout", count);
        report.Setting("layouts", "flat: flat/NNNNNNNN.jpg; tree: tree/classNNN/batchNN/imgNNNNNNN.jpg (100 x 100 x 100 at 1M)");
        report.Setting("origin", settings.ToString());
        report.Setting("silo", "1 process, Cache:MaxListConcurrency=64 (default), Cache:ListCacheTtl=0 (every listing from the origin)");
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

    private static async Task<Checksum> FastAsync(OssCacheClient client, string uri, bool sorted)
    {
        var sum = new Checksum();
        await foreach (var entry in client.ListAsync(uri, new ListOptions { Sorted = sorted }))
            sum.Add(entry.Key);
        return sum;
    }

    /// <summary>
    /// The body of a client process: connect, stream the listing while sampling resident memory every 10 ms, and print
    /// one line: key count, checksum, seconds, RSS once connected, peak RSS while streaming.
    /// </summary>
    public static async Task<int> ClientMainAsync(string gateway, string uri)
    {
        var options = new OssClientOptions();
        options.Gateways.Clear();
        options.Gateways.Add(gateway);
        await using var client = await OssCacheClient.ConnectAsync(options);
        GC.Collect();
        long before = Environment.WorkingSet, peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), Environment.WorkingSet));
                await Task.Delay(10).ConfigureAwait(false);
            }
        });
        var watch = Stopwatch.StartNew();
        var sum = await FastAsync(client, uri, sorted: false);
        double seconds = watch.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        peak = Math.Max(peak, Environment.WorkingSet);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fast-list-client {sum.Count} {sum.Hash} {seconds} {before} {peak}"));
        return 0;
    }

    private static async Task<(long Count, ulong Hash, long RssBefore, long PeakRss)> RunClientProcessAsync(string gateway, string uri)
    {
        string line = await SelfProcess.RunAsync("fast-list-client", "fast-list-client", gateway, uri);
        var f = ("fast-list-client " + line).Split(' ');
        return (long.Parse(f[1], CultureInfo.InvariantCulture), ulong.Parse(f[2], CultureInfo.InvariantCulture),
            long.Parse(f[4], CultureInfo.InvariantCulture), long.Parse(f[5], CultureInfo.InvariantCulture));
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
