using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Transfer;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// An inference fleet pulls one model directory: three client processes prepare the same directory at once through the
/// cluster, against three independent TransferUtility directory downloads straight from the origin. Bytes are counted at
/// the origin; every process writes the files to its own local directory.
/// </summary>
internal static class FleetWarm
{
    private const int Repeats = 3;
    private const int Clients = 3;

    public static async Task<BenchReport> RunAsync(bool quick)
    {
        var report = new BenchReport("fleet-warm", quick);
        int files = quick ? 4 : 8;
        long fileSize = quick ? 128L << 20 : 256L << 20;
        long dirSize = files * fileSize;
        var settings = SimulatorSettings.OssIntranetLike;
        await using var c = await BenchCluster.StartAsync(settings, cacheCapacity: dirSize + (1L << 30), pretouch: true);
        var data = BenchCluster.RandomObject(fileSize);
        for (int rep = 0; rep <= Repeats; rep++)
            c.Origin.PutSharedObjects(BenchCluster.Bucket, Enumerable.Range(0, files).Select(i => $"models/rep{rep}/model-{i:D5}-of-{files:D5}.safetensors"), data);
        string work = Path.Combine(Path.GetTempPath(), "ossorleans-fleet-warm-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

        try
        {
            // Warm-up object for the client processes' JIT (see ClientMainAsync).
            // Eight shards, prepared twice per client: the fetch and write paths run often enough to be compiled as the
            // peer's are in this long-running process.
            c.Origin.PutSharedObjects(BenchCluster.Bucket, Enumerable.Range(0, 8).Select(i => $"models/warmup/part-{i}.bin"), BenchCluster.RandomObject(8L << 20));
            var ratios = new List<double>();
            var times = new List<double>();
            for (int rep = 1; rep <= Repeats; rep++)
            {
                // Processes start and connect first; the clock runs from "go" to the last one done, as for the peer below.
                var clients = new List<FleetClient>();
                for (int i = 0; i < Clients; i++)
                    clients.Add(await FleetClient.StartAsync(c.Silo.Gateway, $"oss://{BenchCluster.Bucket}/models/rep{rep}", Path.Combine(work, $"fleet{rep}-{i}")));
                long before = c.Origin.Counters.GetBodyBytes;
                BenchReport.Mark("fleet-begin");
                var sw = Stopwatch.StartNew();
                var results = await Task.WhenAll(clients.Select(fc => fc.GoAsync()));
                times.Add(sw.Elapsed.TotalSeconds);
                BenchReport.Mark("fleet-end");
                foreach (var bytes in results)
                {
                    if (bytes != dirSize)
                        throw new InvalidOperationException($"a fleet client prepared {bytes} bytes, expected {dirSize}");
                }
                ratios.Add((double)(c.Origin.Counters.GetBodyBytes - before) / dirSize);
                foreach (var fc in clients)
                    fc.Dispose();
                Directory.Delete(work, recursive: true);
            }
            times.Sort();
            double fleet = times[times.Count / 2];

            // The peer: three independent downloads of the directory with AWSSDK's TransferUtility, at once.
            long beforeIndependent = c.Origin.Counters.GetBodyBytes;
            double independent = await BenchReport.MedianSecondsAsync(Repeats, async () =>
            {
                await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => TransferUtilityDownloadAsync(c.Origin.Endpoint, "models/rep0", Path.Combine(work, $"independent-{i}"))));
                Directory.Delete(work, recursive: true);
            });
            double independentRatio = (double)(c.Origin.Counters.GetBodyBytes - beforeIndependent) / Repeats / dirSize;

            ratios.Sort();
            report.Setting("directory", $"{files} files x {fileSize} bytes = {dirSize}");
            report.Setting("clients", $"{Clients} separate processes, each preparing its own local directory");
            report.Setting("origin", settings.ToString());
            report.Figure("fleet_seconds", fleet, "s", "3 processes PrepareDirectoryAsync at once, median of 3");
            report.Figure("independent_seconds", independent, "s", "3 TransferUtility.DownloadDirectoryAsync at once, median of 3");
            report.Figure("independent_origin_bytes_ratio", independentRatio, "x directory", "the same 3 downloads without the cluster");
            report.Ratio("origin_bytes_ratio", ratios[ratios.Count / 2], "origin bytes / directory size, median of 3 (3 independent downloads: 3.0)");
            report.Ratio("fleet_time_vs_independent", fleet / independent);
            return report;
        }
        finally
        {
            if (Directory.Exists(work))
                Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The body of one fleet-warm client process: connect, prepare a small warm-up directory (JIT), say "ready", wait for
    /// "go" on stdin, prepare the directory and print the bytes prepared.
    /// </summary>
    public static async Task<int> ClientMainAsync(string gateway, string uri, string dir)
    {
        var options = new OssClientOptions();
        options.Gateways.Clear();
        options.Gateways.Add(gateway);
        await using var client = await OssCacheClient.ConnectAsync(options);
        for (int i = 0; i < 2; i++)
        {
            await client.PrepareDirectoryAsync($"oss://{BenchCluster.Bucket}/models/warmup", dir + "-warmup");
            Directory.Delete(dir + "-warmup", recursive: true);
        }
        Console.WriteLine("fleet-warm-client-ready");
        if (await Console.In.ReadLineAsync() != "go")
            return 3;
        var result = await client.PrepareDirectoryAsync(uri, dir);
        long onDisk = Directory.EnumerateFiles(dir, "*.safetensors").Sum(f => new FileInfo(f).Length);
        Console.WriteLine("fleet-warm-client-bytes " + onDisk.ToString(CultureInfo.InvariantCulture) + " " + result.Bytes.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    private static async Task TransferUtilityDownloadAsync(Uri endpoint, string prefix, string dir)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        using var s3 = new AmazonS3Client(new BasicAWSCredentials("bench", "bench"), config);
        using var transfer = new TransferUtility(s3);
        await transfer.DownloadDirectoryAsync(new TransferUtilityDownloadDirectoryRequest
        {
            BucketName = BenchCluster.Bucket,
            S3Directory = prefix,
            LocalDirectory = dir,
        });
    }

    /// <summary>A fleet-warm client process, connected and waiting for "go".</summary>
    private sealed class FleetClient : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _stderr;

        private FleetClient(Process process)
        {
            _process = process;
            _stderr = process.StandardError.ReadToEndAsync();
        }

        public static async Task<FleetClient> StartAsync(string gateway, string uri, string dir)
        {
            var client = new FleetClient(Process.Start(SelfProcess.StartInfo("fleet-warm-client", gateway, uri, dir))!);
            await client.ExpectAsync("fleet-warm-client-ready");
            return client;
        }

        public async Task<long> GoAsync()
        {
            await _process.StandardInput.WriteLineAsync("go");
            await _process.StandardInput.FlushAsync();
            string line = await ExpectAsync("fleet-warm-client-bytes ");
            await _process.WaitForExitAsync();
            return long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        }

        private async Task<string> ExpectAsync(string prefix)
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                    return line;
            }
            await _process.WaitForExitAsync();
            string errors = await _stderr;
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"fleet-warm client exited {_process.ExitCode} before '{prefix}': {errors}"));
        }

        public void Dispose() => _process.Dispose();
    }
}
