using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OssOrleans.Benchmarks;

/// <summary>
/// One scenario's results: a table for people, then one JSON line <c>{"scenario": ..., figures..., "ratios": {...}}</c>,
/// also written to <c>bench-results/&lt;scenario&gt;.json</c>.
/// </summary>
internal sealed class BenchReport(string scenario, bool quick)
{
    private readonly List<(string Name, string Value, string Note)> _rows = [];
    private readonly JsonObject _figures = new();
    private readonly JsonObject _ratios = new();
    private readonly JsonObject _settings = new();

    public string Scenario { get; } = scenario;

    public void Setting(string name, object value)
    {
        _settings[name] = JsonValue.Create(value.ToString());
    }

    public void Figure(string name, double value, string unit, string note = "")
    {
        _figures[name] = Math.Round(value, 4);
        _rows.Add((name, value.ToString("0.###", CultureInfo.InvariantCulture) + " " + unit, note));
    }

    public void Ratio(string name, double value, string note = "")
    {
        _ratios[name] = Math.Round(value, 4);
        _rows.Add((name, value.ToString("0.###", CultureInfo.InvariantCulture) + "x", note));
    }

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"== {Scenario} ({(quick ? "quick" : "full")}; {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB) ==");
        foreach (var (k, v) in _settings)
            output.WriteLine($"   setting {k} = {v}");
        int w = Math.Max(10, _rows.Count == 0 ? 10 : _rows.Max(r => r.Name.Length));
        foreach (var (name, value, note) in _rows)
            output.WriteLine($"   {name.PadRight(w)}  {value,16}  {note}");

        var line = new JsonObject
        {
            ["scenario"] = Scenario,
            ["quick"] = quick,
            ["cores"] = Environment.ProcessorCount,
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["settings"] = _settings.DeepClone(),
        };
        foreach (var (k, v) in _figures)
            line[k] = v?.DeepClone();
        line["ratios"] = _ratios.DeepClone();
        string json = line.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        output.WriteLine(json);

        var dir = Path.Combine(RepoRoot(), "bench-results");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, Scenario + ".json"), json + "\n");
    }

    /// <summary>
    /// With OSSORLEANS_BENCH_MARKS=1, prints "mark NAME T" (T = CLOCK_MONOTONIC seconds, the clock `perf record -k
    /// CLOCK_MONOTONIC` stamps samples with), so a profile of a whole run can be cut to one measured phase.
    /// </summary>
    public static void Mark(string name)
    {
        if (Environment.GetEnvironmentVariable("OSSORLEANS_BENCH_MARKS") == "1")
            Console.Error.WriteLine("mark " + name + " " + (Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency).ToString("0.000", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Runs <paramref name="body"/> <paramref name="repeats"/> times and returns the median of the seconds it took;
    /// <paramref name="before"/>, when given, runs untimed before each repetition.
    /// </summary>
    public static async Task<double> MedianSecondsAsync(int repeats, Func<Task> body, Func<Task>? before = null)
    {
        var times = new List<double>(repeats);
        for (int i = 0; i < repeats; i++)
        {
            // Untimed preparation for each repetition.
            if (before is not null)
                await before().ConfigureAwait(false);
            Mark("begin");
            var sw = Stopwatch.StartNew();
            await body().ConfigureAwait(false);
            times.Add(sw.Elapsed.TotalSeconds);
            Mark("end");
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "OssOrleans.sln")))
                return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
