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
            var ratios = new List<double>();
            int n = 0;
            double fleet = await BenchReport.MedianSecondsAsync(Repeats, async () =>
            {
                int rep = ++n;
                long before = c.Origin.Counters.GetBodyBytes;
                var results = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i =>
                    RunClientProcessAsync(c.Silo.Gateway, $"oss://{BenchCluster.Bucket}/models/rep{rep}", Path.Combine(work, $"fleet{rep}-{i}"))));
                foreach (var bytes in results)
                {
                    if (bytes != dirSize)
                        throw new InvalidOperationException($"a fleet client prepared {bytes} bytes, expected {dirSize}");
                }
                ratios.Add((double)(c.Origin.Counters.GetBodyBytes - before) / dirSize);
                Directory.Delete(work, recursive: true);
            });

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

    /// <summary>The body of one fleet-warm client process: connect, prepare the directory, print the bytes prepared.</summary>
    public static async Task<int> ClientMainAsync(string gateway, string uri, string dir)
    {
        var options = new OssClientOptions();
        options.Gateways.Clear();
        options.Gateways.Add(gateway);
        await using var client = await OssCacheClient.ConnectAsync(options);
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

    private static async Task<long> RunClientProcessAsync(string gateway, string uri, string dir)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "fleet-warm-client", gateway, uri, dir })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        string output = await stdout;
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("fleet-warm-client-bytes ", StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
        {
            string errors = await stderr;
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"fleet-warm client exited {p.ExitCode}: {output} {errors}"));
        }
        return long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }
}
