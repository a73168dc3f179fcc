using OssOrleans.ClusterTests.Listing;
using OssOrleans.Grains.Listing;
using OssOrleans.Storage;
using Xunit.Abstractions;

namespace OssOrleans.UnitTests.Listing;

public sealed class DebugSplit(ITestOutputHelper output)
{
    [Theory]
    [InlineData("flat", 1_000_000)]
    [InlineData("tree", 1_000_000)]
    [InlineData("flat0", 1_000_000)]
    [InlineData("flat", 200_000)]
    [InlineData("tree", 400_000)]
    [InlineData("tree", 200_000)]
    public async Task Debug_Bench(string layout, int n)
    {
        var keys = new List<string>(n);
        if (layout.StartsWith("flat"))
            for (int i = 0; i < n; i++) keys.Add($"flat/{i:D7}");
        else
            for (int i = 0; i < n; i++) keys.Add($"tree/d{i / 10000:D3}/s{i / 100 % 100:D2}/f{i % 100:D4}.bin");
        var store = new InMemoryListStore(keys, TimeSpan.FromMilliseconds(layout == "flat0" ? 0 : 20));
        layout = layout.TrimEnd('0');
        var sw = System.Diagnostics.Stopwatch.StartNew();
        store.Started = System.Diagnostics.Stopwatch.GetTimestamp();
        var r = await PartitionTree.ListConcurrentlyAsync(store, new ListPartitionKey("b-b", layout + "/", null, true), 1000, 32, 64);

        // In-flight requests per 100 ms bucket (average).
        var trace = store.Trace.OrderBy(t => t.Time).ToList();
        int inflight = 0; double lastT = 0; var buckets = new double[(int)(sw.Elapsed.TotalSeconds * 10) + 2];
        foreach (var (t, d) in trace)
        {
            for (double x = lastT; x < t; )
            {
                int b = (int)(x * 10); double nx = Math.Min(t, (b + 1) / 10.0);
                buckets[b] += inflight * (nx - x) * 10; x = nx;
            }
            inflight += d; lastT = t;
        }
        if (n == 400_000)
            foreach (var (t, k, c) in PartitionTree.Splits.OrderBy(x => x.Item1))
                output.WriteLine($"  split at {t:0.000}: {c} children of {k.StartAfter} .. {k.EndAt}");
        PartitionTree.Splits.Clear();
        if (n == 400_000)
            foreach (var t in r.Timeline.OrderBy(t => t.Start))
                output.WriteLine($"  {t.Start:0.000}-{t.End:0.000} {t.Entries,7} exp={t.Key.ExpectedKeys} {t.Key.StartAfter} .. {t.Key.EndAt}");
        output.WriteLine(layout + " " + n + " util: " + string.Join(" ", buckets.Select(b => b.ToString("0"))));
        output.WriteLine($"{layout} {n}: {sw.Elapsed.TotalSeconds:0.00}s entries {r.Entries.Count} distinct {r.Entries.Select(e => e.Key).Distinct().Count()} partitions {r.Partitions} requests {store.Requests} keysReturned {store.KeysReturned} avgDelay {store.AverageDelayMs:0.0}ms");
    }

    [Fact]
    public async Task Debug_Split6()
    {
        var keys = Keyspaces.Awkward("w/", 6, 3000);
        var store = new InMemoryListStore(keys);
        var page = await store.ListPageAsync(new ListRequest("b-b", "w/") { MaxKeys = 50 });
        var items = page.Entries.Select(e => e.Key).ToList();
        string last = items[^1];
        var levels = ListSplitter.ProbeLevels("w/", last, null);
        var probes = new List<DirectoryProbe>();
        foreach (var l in levels)
        {
            var p = await store.ListPageAsync(new ListRequest("b-b", l) { Delimiter = "/", StartAfter = last, MaxKeys = 50 });
            var pi = PartitionLister.Merge(p).Select(e => e.Item).ToList();
            output.WriteLine($"probe {l}: {string.Join(" | ", pi)}");
            probes.Add(new DirectoryProbe(l, pi, p.IsTruncated));
        }
        var pr = probes[0].Items.Where(i => KeyOrder.Compare(i, last) > 0).ToList();
        var t = ListSplitter.FlatTail("w/", pr, pr[^1]);
        output.WriteLine($"tail own {t.Own} bumps {string.Join(" | ", t.Bumps.Select(x => x.Bound + "=" + x.Weight))}");
        var b = ListSplitter.Boundaries(new SplitInput("w/", null, items, null, probes, 400, 16));
        output.WriteLine($"last {last} levels {string.Join(",", levels)} bounds {string.Join(" | ", b)}");
    }
}
