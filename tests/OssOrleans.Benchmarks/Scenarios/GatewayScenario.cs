using System.Diagnostics;
using System.Globalization;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// Other people's S3 tools through the silo's S3 gateway against the same tools straight from the origin: rclone with 16
/// streams and boto3 with 16 threads reading one big object, boto3 with 64 threads reading 2,048 objects of 128 KiB. Every
/// tool is a process of its own, and so are the silo and the origin simulator (shaped like an OSS intranet endpoint).
/// Direct, through the gateway cold (a first read: the cluster loads from the origin), and hot (served from silo memory);
/// then three tool processes read the same data at once through the gateway and the origin's bytes are counted.
/// </summary>
internal static class GatewayScenario
{
    private const string Bucket = "bench";
    private const int Repeats = 3;
    private const int SmallCount = 2048;
    private const int SmallSize = 128 << 10;
    private const int OriginConcurrency = 64;

    public static async Task<BenchReport> RunAsync(bool quick)
    {
        var report = new BenchReport("gateway", quick);
        long big = quick ? 256L << 20 : 1L << 30;
        string rclone = ExternalTool.Find("rclone") ?? throw new InvalidOperationException("rclone is not installed (tests/install-test-deps.sh)");
        if (await ExternalTool.MissingPythonModulesAsync("boto3") is { } missing)
            throw new InvalidOperationException(missing);

        await using var origin = await OriginProcess.StartAsync(Bucket);
        // Keys per tool and repetition, so each cold read is the first read of its bytes; the content is one shared array:
        // big/0-3 for rclone (0 to warm up), big/4-7 for boto3, big/8 for the three tools at once.
        await origin.PutSharedAsync(Bucket, "big/{0}.bin", 2 * (Repeats + 1) + 1, big, seed: 1);
        for (int r = 0; r <= Repeats; r++)
            await origin.PutSharedAsync(Bucket, $"small/rep{r}/{{0:D5}}.bin", SmallCount, SmallSize, seed: 2);
        await origin.PutSharedAsync(Bucket, "small/concurrent/{0:D5}.bin", SmallCount, SmallSize, seed: 2);

        // Enough for each tool's last copy, read hot after its cold read (older copies may be evicted meanwhile).
        long capacity = quick ? 2L << 30 : 4L << 30;
        await using var silo = await SiloProcess.StartAsync([
            "--Origin:Kind=S3", $"--Origin:S3:Endpoint={origin.Endpoint}", "--Origin:S3:AccessKeyId=bench", "--Origin:S3:AccessKeySecret=bench",
            $"--Cache:CapacityBytes={capacity}", "--Cache:PretouchBuffers=true", "--Cluster:ClusterId=gateway-bench", "--Logging:LogLevel:Default=Warning",
            // As many origin requests in flight as the 64-worker tool makes straight to the origin (the default is 16).
            $"--Cache:MaxOriginConcurrency={OriginConcurrency}",
        ]);
        string gateway = silo.S3Url ?? throw new InvalidOperationException("the silo printed no S3 gateway address");
        await WaitForPretouchAsync(silo, capacity);

        using var home = new ExternalTool.TempHome();
        string out1 = Directory.CreateDirectory($"/dev/shm/ossorleans-gateway-bench-{Environment.ProcessId}").FullName;
        await File.WriteAllTextAsync(home.Combine("rclone.conf"),
            $"[direct]\ntype = s3\nprovider = Other\naccess_key_id = bench\nsecret_access_key = bench-secret\nendpoint = {origin.Endpoint.ToString().TrimEnd('/')}\nregion = us-east-1\n" +
            $"[gw]\ntype = s3\nprovider = Other\naccess_key_id = bench\nsecret_access_key = bench-secret\nendpoint = {gateway}\nregion = us-east-1\n");
        var tools = new Tools(rclone, home, out1, origin.Endpoint.ToString().TrimEnd('/'), gateway);
        try
        {
            // Untimed: each tool once direct and once through the gateway, so both servers' JIT has settled.
            await tools.RcloneAsync("direct", Big("rclone", 0));
            await tools.RcloneAsync("gw", Big("rclone", 0));
            await tools.Boto3BigAsync(direct: true, Big("boto3", 0));
            await tools.Boto3BigAsync(direct: false, Big("boto3", 0));
            await tools.Boto3ManyAsync(direct: true, "small/rep0/");
            await tools.Boto3ManyAsync(direct: false, "small/rep0/");

            var rcloneTimes = await MeasureAsync(rep => tools.RcloneAsync("direct", Big("rclone", 1)), rep => tools.RcloneAsync("gw", Big("rclone", rep)),
                () => tools.RcloneAsync("gw", Big("rclone", Repeats)));
            var boto3Times = await MeasureAsync(rep => tools.Boto3BigAsync(true, Big("boto3", 1)), rep => tools.Boto3BigAsync(false, Big("boto3", rep)),
                () => tools.Boto3BigAsync(false, Big("boto3", Repeats)));
            var manyTimes = await MeasureAsync(rep => tools.Boto3ManyAsync(true, "small/rep1/"), rep => tools.Boto3ManyAsync(false, $"small/rep{rep}/"),
                () => tools.Boto3ManyAsync(false, $"small/rep{Repeats}/"));

            // Three tool processes at once, each reading all of the same data through the gateway, cold.
            long before = (await origin.CountersAsync()).GetBodyBytes;
            string shared = Big("concurrent", 0);
            await Task.WhenAll(tools.RcloneAsync("gw", shared), tools.Boto3BigAsync(false, shared), tools.RcloneAsync("gw", shared, output: "second"));
            long bigBytes = (await origin.CountersAsync()).GetBodyBytes - before;
            before += bigBytes;
            await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => tools.Boto3ManyAsync(false, "small/concurrent/")));
            long smallBytes = (await origin.CountersAsync()).GetBodyBytes - before;
            long smallTotal = (long)SmallCount * SmallSize;

            report.Setting("origin", "simulator in its own process, " + SimulatorSettings.OssIntranetLike.ToString().Replace("Md5ETags=True", "Md5ETags=False", StringComparison.Ordinal));
            report.Setting("silo", $"one silo process, cache {capacity >> 30} GiB pre-touched, shard 8 MiB, {OriginConcurrency} origin requests in flight, gateway on loopback, no tenants");
            report.Setting("big_object", $"{big} bytes: rclone copyto --multi-thread-streams 16; boto3 download_file with 16 threads, 8 MiB parts");
            report.Setting("small_objects", $"{SmallCount} x {SmallSize} bytes: boto3 get_object from 64 threads");
            report.Setting("tools", "separate processes, output to /dev/shm; rclone timed as a process, boto3 from after its imports; median of 3");
            Figures(report, "rclone16", big, rcloneTimes);
            Figures(report, "boto3_16", big, boto3Times);
            Figures(report, "boto3_64x128k", smallTotal, manyTimes);
            report.Figure("origin_bytes_3_tools_big", bigBytes, "bytes", $"rclone, boto3 and rclone reading the same {big}-byte object at once, cold");
            report.Figure("origin_bytes_3_tools_small", smallBytes, "bytes", $"three boto3 processes reading the same {SmallCount} objects at once, cold");

            var cold = new[] { rcloneTimes, boto3Times, manyTimes }.Select(t => t.Direct / t.Cold).ToArray();
            var hot = new[] { rcloneTimes, boto3Times, manyTimes }.Select(t => t.Direct / t.Hot).ToArray();
            report.Ratio("gateway_cold_vs_direct", cold.Min(), "the smallest over the three tools (each: direct seconds / cold gateway seconds)");
            report.Ratio("gateway_hot_vs_direct", hot.Min(), "the smallest over the three tools (each: direct seconds / hot gateway seconds)");
            report.Ratio("origin_bytes_ratio", Math.Max((double)bigBytes / big, (double)smallBytes / smallTotal),
                "origin bytes / data bytes with three tool processes reading the same data at once (the larger of big and small)");
            return report;
        }
        finally
        {
            Directory.Delete(out1, recursive: true);
        }
    }

    // Which copy of the big object a tool reads in a repetition (see where they are put).
    private static string Big(string tool, int rep) =>
        string.Create(CultureInfo.InvariantCulture, $"big/{(tool == "rclone" ? 0 : tool == "boto3" ? Repeats + 1 : 2 * (Repeats + 1)) + rep}.bin");

    private static void Figures(BenchReport report, string tool, long bytes, Times t)
    {
        report.Figure($"{tool}_direct_mbps", bytes / t.Direct / 1e6, "MB/s", "straight from the origin");
        report.Figure($"{tool}_gateway_cold_mbps", bytes / t.Cold / 1e6, "MB/s", "through the gateway, first read");
        report.Figure($"{tool}_gateway_hot_mbps", bytes / t.Hot / 1e6, "MB/s", "through the gateway, cached");
        report.Figure($"{tool}_cold_vs_direct", t.Direct / t.Cold, "x");
        report.Figure($"{tool}_hot_vs_direct", t.Direct / t.Hot, "x");
    }

    private sealed record Times(double Direct, double Cold, double Hot);

    // Medians of 3: direct reads, cold gateway reads (a new copy of the data each time), then hot reads of the last copy.
    private static async Task<Times> MeasureAsync(Func<int, Task<double>> direct, Func<int, Task<double>> cold, Func<Task<double>> hot)
    {
        var d = new List<double>();
        var c = new List<double>();
        var h = new List<double>();
        for (int rep = 1; rep <= Repeats; rep++)
            d.Add(await direct(rep));
        for (int rep = 1; rep <= Repeats; rep++)
            c.Add(await cold(rep));
        for (int rep = 1; rep <= Repeats; rep++)
            h.Add(await hot());
        return new Times(Median(d), Median(c), Median(h));
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static async Task WaitForPretouchAsync(SiloProcess silo, long capacity)
    {
        var options = new OssClientOptions { ClusterId = "gateway-bench" };
        options.Gateways.Clear();
        options.Gateways.Add(silo.Gateway);
        await using var client = await OssCacheClient.ConnectAsync(options);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while ((await client.GetClusterStatsAsync()).Sum(s => s.AllocatedBytes) < capacity - (64L << 20))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the silo did not finish pre-touching its cache within 2 minutes");
            await Task.Delay(100);
        }
    }

    /// <summary>The tools as processes: rclone timed from outside, boto3 from its own timer.</summary>
    private sealed class Tools(string rclone, ExternalTool.TempHome home, string outputs, string origin, string gateway)
    {
        public async Task<double> RcloneAsync(string remote, string key, string output = "rclone")
        {
            string target = Path.Combine(outputs, output + ".bin");
            var sw = Stopwatch.StartNew();
            await Run(rclone, ["--config", home.Combine("rclone.conf"), "copyto", $"{remote}:{Bucket}/{key}", target,
                "--multi-thread-streams", "16", "--multi-thread-cutoff", "1M", "--ignore-checksum", "--no-check-dest"]);
            double seconds = sw.Elapsed.TotalSeconds;
            File.Delete(target);
            return seconds;
        }

        public async Task<double> Boto3BigAsync(bool direct, string key)
        {
            string target = Path.Combine(outputs, $"boto3-{Guid.NewGuid():N}.bin");
            string text = await Run(ExternalTool.DebianPython, [Script, "big", direct ? origin : gateway, Bucket, key, target]);
            File.Delete(target);
            return Seconds(text);
        }

        public async Task<double> Boto3ManyAsync(bool direct, string prefix)
        {
            string text = await Run(ExternalTool.DebianPython, [Script, "many", direct ? origin : gateway, Bucket, prefix, SmallCount.ToString(CultureInfo.InvariantCulture)]);
            return Seconds(text);
        }

        private static string Script => Path.Combine(AppContext.BaseDirectory, "Scripts", "bench_boto3.py");

        private async Task<string> Run(string executable, string[] arguments)
        {
            var (code, text) = await ExternalTool.RunAsync(executable, arguments, home.Environment("bench", "bench-secret"), home.Path, TimeSpan.FromMinutes(5));
            if (code != 0)
                throw new InvalidOperationException($"{Path.GetFileName(executable)} {string.Join(' ', arguments)} exited {code}: {text}");
            return text;
        }

        private static double Seconds(string text)
        {
            var line = text.Split('\n').Last(l => l.StartsWith("seconds ", StringComparison.Ordinal)).Split(' ');
            return double.Parse(line[1], CultureInfo.InvariantCulture);
        }
    }
}
