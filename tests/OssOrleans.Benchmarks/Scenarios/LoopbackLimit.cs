using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// The physical limit of this machine for the data plane: Kestrel writing a preallocated array to an HttpClient
/// that reads the response stream into one reused buffer. Nothing we build can stream bytes over loopback HTTP faster.
/// </summary>
internal static class LoopbackLimit
{
    public static async Task<BenchReport> RunAsync(bool quick)
    {
        var report = new BenchReport("loopback-limit", quick);
        long size = quick ? 256L << 20 : 1L << 30;
        double gbps = await MeasureAsync(size, streams: 1, repeats: 3);
        double gbps4 = await MeasureAsync(size, streams: 4, repeats: 3);
        report.Setting("bytes_per_run", size);
        report.Figure("loopback_gbps", gbps, "GB/s", "1 stream, median of 3");
        report.Figure("loopback_4_streams_gbps", gbps4, "GB/s", "4 streams, median of 3");
        report.Ratio("four_vs_one_stream", gbps4 / gbps);
        return report;
    }

    /// <summary>GB/s (10^9 bytes per second) of <paramref name="streams"/> concurrent GETs that together move <paramref name="totalBytes"/>.</summary>
    public static async Task<double> MeasureAsync(long totalBytes, int streams, int repeats)
    {
        // One 16 MiB array written repeatedly: the server side then costs only the socket write, as a cache hit would.
        var payload = new byte[16 << 20];
        Random.Shared.NextBytes(payload);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/bytes/{length:long}", async (long length, HttpContext ctx) =>
        {
            ctx.Response.ContentLength = length;
            // 256 KiB writes: Kestrel's fastest way to send memory (one huge write makes it copy everything into
            // fresh pipe blocks first). The data plane writes shards the same way.
            for (long sent = 0; sent < length;)
            {
                int n = (int)Math.Min(256 * 1024, length - sent);
                int at = (int)(sent % payload.Length);
                n = Math.Min(n, payload.Length - at);
                await ctx.Response.Body.WriteAsync(payload.AsMemory(at, n), ctx.RequestAborted);
                sent += n;
            }
        });
        await app.StartAsync();
        var baseUri = new Uri(app.Urls.First());

        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(10) };
        long per = totalBytes / streams;
        double seconds = await BenchReport.MedianSecondsAsync(repeats, () => Task.WhenAll(Enumerable.Range(0, streams).Select(_ => DrainAsync(http, per))));
        await app.StopAsync();
        return per * streams / seconds / 1e9;
    }

    private static async Task DrainAsync(HttpClient http, long length)
    {
        using var response = await http.GetAsync($"/bytes/{length}", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0)
            total += n;
        if (total != length)
            throw new InvalidOperationException($"loopback read {total} bytes, expected {length}");
    }
}
