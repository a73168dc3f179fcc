using System.Diagnostics;
using OssOrleans.Client;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

internal static class FastListDebug
{
    public static async Task<BenchReport> RunAsync(bool quick)
    {
        var report = new BenchReport("fast-list-debug", quick);
        int count = 200_000;
        var settings = new SimulatorSettings { MaxKeysLimit = 1000 };
        await using var origin = await OriginSimulator.StartNewAsync(settings, "bench");
        origin.PutSharedObjects("bench", Enumerable.Range(0, count).Select(i => $"flat/{i:D8}.jpg"), new byte[16]);
        origin.PutSharedObjects("bench", Enumerable.Range(0, count).Select(i => $"tree/class{i / 10_000:D3}/batch{i / 100 % 100:D2}/img{i:D7}.jpg"), new byte[16]);
        await using var silo = await SiloProcess.StartAsync([
            "--Origin:Kind=S3", $"--Origin:S3:Endpoint={origin.Endpoint}",
            "--Origin:S3:AccessKeyId=bench", "--Origin:S3:AccessKeySecret=bench",
            "--Logging:LogLevel:Default=Warning", "--Cache:ListCacheTtl=00:00:00",
        ]);
        var o = new OssClientOptions(); o.Gateways.Clear(); o.Gateways.Add(silo.Gateway);
        await using var client = await OssCacheClient.ConnectAsync(o);
        using var direct = new S3ObjectStore(new S3StoreOptions { Endpoint = origin.Endpoint.ToString(), AccessKeyId = "bench", AccessKeySecret = "bench" });
        var proc = Process.GetProcessById(silo.ProcessId);
        for (int rep = 0; rep < 6; rep++)
        {
            var me = Process.GetCurrentProcess();
            var cpu0 = me.TotalProcessorTime; proc.Refresh(); var scpu0 = proc.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            string? token = null; long n = 0;
            do { var page = await direct.ListPageAsync(new ListRequest("bench", "flat/") { ContinuationToken = token }); n += page.Entries.Count; token = page.NextContinuationToken; } while (token != null);
            me.Refresh();
            Console.WriteLine($"sequential no latency: {sw.Elapsed.TotalSeconds:0.000}s n={n} benchCpu={(me.TotalProcessorTime - cpu0).TotalSeconds:0.00}");
        }
        using var http = new HttpClient();
        {
            var s3 = new Amazon.S3.AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials("bench", "bench"), new Amazon.S3.AmazonS3Config { ServiceURL = origin.Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", UseHttp = true });
            var req = new Amazon.S3.Model.GetPreSignedUrlRequest { BucketName = "bench", Verb = Amazon.S3.HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(10), Protocol = Amazon.S3.Protocol.HTTP };
            req.Parameters.Add("list-type", "2");
            req.Parameters.Add("prefix", "flat/ x+y%");
            req.Parameters.Add("max-keys", "3");
            req.Parameters.Add("encoding-type", "url");
            string url = await s3.GetPreSignedURLAsync(req);
            Console.WriteLine("presigned: " + url);
            var resp = await http.GetAsync(url);
            Console.WriteLine($"status {resp.StatusCode}: {(await resp.Content.ReadAsStringAsync())[..300]}");
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 1000; i++) await s3.GetPreSignedURLAsync(req);
            Console.WriteLine($"presign cost {sw.Elapsed.TotalMilliseconds / 1000:0.000} ms");
        }
        for (int rep = 0; rep < 3; rep++)
        {
            var me = Process.GetCurrentProcess();
            var cpu0 = me.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            string? token = null; long bytes = 0;
            do
            {
                string url = $"{origin.Endpoint}bench?list-type=2&prefix=flat/" + (token is null ? "" : "&continuation-token=" + Uri.EscapeDataString(token));
                string xml = await http.GetStringAsync(url);
                bytes += xml.Length;
                int a = xml.IndexOf("<NextContinuationToken>");
                token = a < 0 ? null : xml[(a + 23)..xml.IndexOf("</NextContinuationToken>")];
            } while (token != null);
            me.Refresh();
            Console.WriteLine($"raw http no latency: {sw.Elapsed.TotalSeconds:0.000}s chars={bytes} benchCpu={(me.TotalProcessorTime - cpu0).TotalSeconds:0.00}");
        }
        {
            byte[] page = await http.GetByteArrayAsync($"{origin.Endpoint}bench?list-type=2&prefix=flat/");
            var sw = Stopwatch.StartNew();
            long n = 0;
            for (int i = 0; i < 200; i++)
            {
                using var ms = new MemoryStream(page);
                using var xr = System.Xml.XmlReader.Create(ms, new System.Xml.XmlReaderSettings { IgnoreWhitespace = true, IgnoreComments = true, DtdProcessing = System.Xml.DtdProcessing.Prohibit });
                string? key = null; long size = 0; string? etag = null; DateTimeOffset lm = default;
                while (xr.Read())
                {
                    if (xr.NodeType != System.Xml.XmlNodeType.Element) continue;
                    switch (xr.LocalName)
                    {
                        case "Key": key = xr.ReadElementContentAsString(); break;
                        case "Size": size = long.Parse(xr.ReadElementContentAsString()); break;
                        case "ETag": etag = xr.ReadElementContentAsString(); break;
                        case "LastModified": lm = DateTimeOffset.Parse(xr.ReadElementContentAsString(), System.Globalization.CultureInfo.InvariantCulture); n++; break;
                    }
                }
            }
            Console.WriteLine($"xmlreader parse: {sw.Elapsed.TotalMilliseconds / 200:0.000} ms per page of 1000, n={n}");
        }
        origin.Settings.ListLatency = TimeSpan.Zero;
        origin.Settings.ListLatency = TimeSpan.FromMilliseconds(20);
        for (int w = 0; w < 30; w++) await foreach (var e in client.ListAsync(w % 2 == 0 ? "oss://bench/flat/" : "oss://bench/tree/")) { }
        var counters = Process.Start(new ProcessStartInfo(Environment.GetEnvironmentVariable("HOME") + "/.dotnet/tools/dotnet-counters", $"collect -p {silo.ProcessId} --counters System.Runtime --format csv -o /tmp/silo-counters.csv --refresh-interval 1") { RedirectStandardOutput = true, RedirectStandardError = true });
        await Task.Delay(1500);
        for (int rep = 0; rep < 8; rep++)
        {
            var me = Process.GetCurrentProcess();
            var cpu0 = me.TotalProcessorTime; proc.Refresh(); var scpu0 = proc.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var starts = new System.Collections.Concurrent.ConcurrentBag<double>();
            long n = 0; double firstEntry = 0;
            long lists0 = origin.Counters.Lists;
            var opts = new ListOptions { OnPartition = _ => starts.Add(sw.Elapsed.TotalMilliseconds) };
            await foreach (var e in client.ListAsync(rep % 2 == 0 ? "oss://bench/flat/" : "oss://bench/tree/", opts)) { if (n++ == 0) firstEntry = sw.Elapsed.TotalMilliseconds; }
            me.Refresh(); proc.Refresh();
            var st = starts.OrderBy(x => x).ToList();
            Console.WriteLine($"rep {rep}: {sw.Elapsed.TotalMilliseconds:0}ms lists={origin.Counters.Lists - lists0} benchCpu={(me.TotalProcessorTime - cpu0).TotalSeconds:0.00} siloCpu={(proc.TotalProcessorTime - scpu0).TotalSeconds:0.00} first={firstEntry:0} partitions={st.Count} starts: " + string.Join(" ", st.Select((x, k) => (k % 6 == 0) ? x.ToString("0") : null).Where(x => x != null)));
        }
        await Task.Delay(1500);
        counters!.Kill();
        return report;
    }
}
