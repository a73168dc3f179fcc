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
        var cpu = new CpuProbe(tools, silo.ProcessId, origin.ProcessId);
        try
        {
            // Untimed: each tool once direct and once through the gateway, so both servers' JIT has settled.
            await tools.RcloneAsync("direct", Big("rclone", 0));
            await tools.RcloneAsync("gw", Big("rclone", 0));
            await tools.Boto3BigAsync(direct: true, Big("boto3", 0));
            await tools.Boto3BigAsync(direct: false, Big("boto3", 0));
            await tools.Boto3ManyAsync(direct: true, "small/rep0/");
            await tools.Boto3ManyAsync(direct: false, "small/rep0/");

            var rcloneTimes = await MeasureAsync(cpu, rep => tools.RcloneAsync("direct", Big("rclone", 1)), rep => tools.RcloneAsync("gw", Big("rclone", rep)),
                () => tools.RcloneAsync("gw", Big("rclone", Repeats)));
            var boto3Times = await MeasureAsync(cpu, rep => tools.Boto3BigAsync(true, Big("boto3", 1)), rep => tools.Boto3BigAsync(false, Big("boto3", rep)),
                () => tools.Boto3BigAsync(false, Big("boto3", Repeats)));
            var manyTimes = await MeasureAsync(cpu, rep => tools.Boto3ManyAsync(true, "small/rep1/"), rep => tools.Boto3ManyAsync(false, $"small/rep{rep}/"),
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
            report.Setting("cpu", "CPU seconds per GB of each process (the tool's from bash's `times`, the silo's and the origin's from /proc), medians of 3; "
                + "hot_ceiling: what the tool and the silo's CPU per byte allow on this machine's cores when both run flat out");
            Figures(report, "rclone16", big, rcloneTimes);
            Figures(report, "boto3_16", big, boto3Times);
            Figures(report, "boto3_64x128k", smallTotal, manyTimes);
            report.Figure("origin_bytes_3_tools_big", bigBytes, "bytes", $"rclone, boto3 and rclone reading the same {big}-byte object at once, cold");
            report.Figure("origin_bytes_3_tools_small", smallBytes, "bytes", $"three boto3 processes reading the same {SmallCount} objects at once, cold");

            var cold = new[] { rcloneTimes, boto3Times, manyTimes }.Select(t => t.Direct.Seconds / t.Cold.Seconds).ToArray();
            var hot = new[] { rcloneTimes, boto3Times, manyTimes }.Select(t => t.Direct.Seconds / t.Hot.Seconds).ToArray();
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
        report.Figure($"{tool}_direct_mbps", bytes / t.Direct.Seconds / 1e6, "MB/s", "straight from the origin");
        report.Figure($"{tool}_gateway_cold_mbps", bytes / t.Cold.Seconds / 1e6, "MB/s", "through the gateway, first read");
        report.Figure($"{tool}_gateway_hot_mbps", bytes / t.Hot.Seconds / 1e6, "MB/s", "through the gateway, cached");
        report.Figure($"{tool}_cold_vs_direct", t.Direct.Seconds / t.Cold.Seconds, "x");
        report.Figure($"{tool}_hot_vs_direct", t.Direct.Seconds / t.Hot.Seconds, "x");
        double gb = bytes / 1e9;
        report.Figure($"{tool}_direct_tool_cpu", t.Direct.Tool / gb, "CPU s/GB", "the tool, straight from the origin");
        report.Figure($"{tool}_direct_origin_cpu", t.Direct.Origin / gb, "CPU s/GB", "the origin simulator, serving the tool");
        report.Figure($"{tool}_hot_tool_cpu", t.Hot.Tool / gb, "CPU s/GB", "the tool, through the gateway, cached");
        report.Figure($"{tool}_hot_silo_cpu", t.Hot.Silo / gb, "CPU s/GB", "the silo, serving it from memory");
        // Hot, the tool and the silo share the cores and nothing waits on the origin: their CPU per byte bounds the rate.
        double ceiling = Environment.ProcessorCount / ((t.Hot.Tool + t.Hot.Silo) / gb);
        report.Figure($"{tool}_hot_ceiling_mbps", ceiling * 1e3, "MB/s", $"{Environment.ProcessorCount} cores / (tool + silo CPU per byte, hot)");
        report.Figure($"{tool}_hot_ceiling_vs_direct", ceiling * 1e9 / (bytes / t.Direct.Seconds), "x", "the largest hot_vs_direct that CPU allows here");
    }

    private sealed record Run(double Seconds, double Tool, double Silo, double Origin);

    private sealed record Times(Run Direct, Run Cold, Run Hot);

    // Medians of 3: direct reads, cold gateway reads (a new copy of the data each time), then hot reads of the last copy.
    private static async Task<Times> MeasureAsync(CpuProbe cpu, Func<int, Task<double>> direct, Func<int, Task<double>> cold, Func<Task<double>> hot)
    {
        var d = new List<Run>();
        var c = new List<Run>();
        var h = new List<Run>();
        for (int rep = 1; rep <= Repeats; rep++)
            d.Add(await cpu.MeasureAsync(() => direct(rep)));
        for (int rep = 1; rep <= Repeats; rep++)
            c.Add(await cpu.MeasureAsync(() => cold(rep)));
        for (int rep = 1; rep <= Repeats; rep++)
            h.Add(await cpu.MeasureAsync(hot));
        return new Times(MedianRun(d), MedianRun(c), MedianRun(h));
    }

    private static Run MedianRun(List<Run> runs) => new(
        Median([.. runs.Select(r => r.Seconds)]), Median([.. runs.Select(r => r.Tool)]), Median([.. runs.Select(r => r.Silo)]), Median([.. runs.Select(r => r.Origin)]));

    /// <summary>The CPU a tool run took (its own, reported by the shell that ran it), and the silo's and the origin's meanwhile.</summary>
    private sealed class CpuProbe(Tools tools, int silo, int origin)
    {
        public async Task<Run> MeasureAsync(Func<Task<double>> run)
        {
            var siloBefore = CpuSeconds(silo);
            var originBefore = CpuSeconds(origin);
            double seconds = await run();
            return new Run(seconds, tools.LastCpuSeconds, CpuSeconds(silo) - siloBefore, CpuSeconds(origin) - originBefore);
        }

        private static double CpuSeconds(int pid)
        {
            using var p = Process.GetProcessById(pid);
            return p.TotalProcessorTime.TotalSeconds;
        }
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

        /// <summary>User and system CPU seconds of the last tool run (the tool and its children).</summary>
        public double LastCpuSeconds { get; private set; }

        private async Task<string> Run(string executable, string[] arguments)
        {
            // bash's `times` prints the CPU of the shell's children on its second line ("0m1.234s 0m0.456s"): the tool's,
            // measured by the kernel, with no package beyond bash.
            string[] wrapped = ["-c", "\"$0\" \"$@\"; rc=$?; echo; echo cpu-times; times; exit $rc", executable, .. arguments];
            var (code, text) = await ExternalTool.RunAsync("/bin/bash", wrapped, home.Environment("bench", "bench-secret"), home.Path, TimeSpan.FromMinutes(5));
            if (code != 0)
                throw new InvalidOperationException($"{Path.GetFileName(executable)} {string.Join(' ', arguments)} exited {code}: {text}");
            LastCpuSeconds = ChildCpuSeconds(text);
            return text;
        }

        private static double ChildCpuSeconds(string text)
        {
            var lines = text.Split('\n');
            int at = Array.LastIndexOf(lines, "cpu-times");
            if (at < 0 || at + 2 >= lines.Length)
                throw new InvalidOperationException($"no CPU times in the tool's output: {text}");
            return lines[at + 2].Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(ParseTimes);
        }

        // "1m2.345s"
        private static double ParseTimes(string value)
        {
            int m = value.IndexOf('m', StringComparison.Ordinal);
            return (double.Parse(value[..m], CultureInfo.InvariantCulture) * 60) + double.Parse(value[(m + 1)..].TrimEnd('s'), CultureInfo.InvariantCulture);
        }

        private static double Seconds(string text)
        {
            var line = text.Split('\n').Last(l => l.StartsWith("seconds ", StringComparison.Ordinal)).Split(' ');
            return double.Parse(line[1], CultureInfo.InvariantCulture);
        }
    }
}
