using System.Diagnostics;
using System.Text;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Silo;

/// <summary>The README's first command, as a real process: a one-node cluster on the embedded default.</summary>
public sealed class SiloProcessTests
{
    [Fact]
    public async Task SiloExecutable_EmbeddedDefault_SeedsSampleBucketServesHealthAndReadsThroughCluster()
    {
        var work = Directory.CreateTempSubdirectory("oss-silo-");
        int http = FreePort.GetLoopbackPort(), siloPort = FreePort.GetLoopbackPort(), gateway = FreePort.GetLoopbackPort();
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "OssOrleans.Silo"))
        {
            WorkingDirectory = work.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "--urls", $"http://127.0.0.1:{http}", "--silo-port", $"{siloPort}", "--gateway-port", $"{gateway}" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = new StringBuilder();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            lock (output) output.AppendLine(e.Data);
            if (e.Data?.Contains("Press Ctrl+C", StringComparison.Ordinal) == true) started.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var done = await Task.WhenAny(started.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
            string text;
            lock (output) text = output.ToString();
            Assert.True(started.Task.IsCompleted, $"waited 90 s for the silo to print 'Press Ctrl+C'; it printed:\n{text}");
            Assert.Contains($"http://127.0.0.1:{http}", text, StringComparison.Ordinal);
            Assert.Contains($"gateway port {gateway}", text, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(work.FullName, "data", "sample", "README.txt")), "the sample bucket was not seeded under ./data");

            using var httpClient = new HttpClient();
            var health = await httpClient.GetStringAsync($"http://127.0.0.1:{http}/healthz");
            Assert.Contains("\"status\":\"ok\"", health, StringComparison.Ordinal);

            var options = new OssClientOptions();
            options.Gateways.Clear();
            options.Gateways.Add($"127.0.0.1:{gateway}");
            await using var client = await OssCacheClient.ConnectAsync(options);
            var expected = await File.ReadAllBytesAsync(Path.Combine(work.FullName, "data", "sample", "models", "tiny", "weights.bin"));
            await using var stream = await client.OpenReadAsync("oss://sample/models/tiny/weights.bin");
            using var ms = new MemoryStream();
            await stream.CopyToAsync(ms);
            Assert.Equal(expected, ms.ToArray());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            work.Delete(recursive: true);
        }
    }
}
