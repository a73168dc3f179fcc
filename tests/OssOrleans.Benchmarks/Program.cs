using OssOrleans.Benchmarks;
using OssOrleans.Benchmarks.Scenarios;

var scenarios = new Dictionary<string, Func<bool, Task<BenchReport>>>(StringComparer.OrdinalIgnoreCase)
{
    ["loopback-limit"] = LoopbackLimit.RunAsync,
    ["origin-raw"] = OriginRaw.RunAsync,
    ["hot-read"] = ClusterReads.HotReadAsync,
    ["cold-read"] = ClusterReads.ColdReadAsync,
    ["fleet-read"] = ClusterReads.FleetReadAsync,
    ["fast-list"] = FastList.RunAsync,
    ["checkpoint"] = Checkpoint.RunAsync,
    ["fleet-warm"] = FleetWarm.RunAsync,
    ["dataset-epoch"] = Datasets.EpochAsync,
    ["tar-dataset"] = Datasets.TarAsync,
    ["gateway"] = GatewayScenario.RunAsync,
};

// A child process of the fleet-read scenario.
if (args.Length == 3 && args[0] == "fleet-client")
    return await ClusterReads.FleetClientMainAsync(args[1], args[2]);
if (args.Length == 4 && args[0] == "fleet-warm-client")
    return await FleetWarm.ClientMainAsync(args[1], args[2], args[3]);
if (args.Length == 3 && args[0] == "fast-list-client")
    return await FastList.ClientMainAsync(args[1], args[2]);
// The origin simulator in a process of its own, for scenarios that compare other people's tools.
if (args.Length == 2 && args[0] == "origin-sim")
    return await OriginProcess.MainAsync(args[1]);

bool quick = args.Contains("--quick");
var names = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
if (names.Count == 0 || names.Any(n => n != "all" && !scenarios.ContainsKey(n)))
{
    Console.Error.WriteLine($"usage: OssOrleans.Benchmarks <scenario>|all [--quick]; scenarios: {string.Join(", ", scenarios.Keys)}");
    return 2;
}
if (names.Contains("all"))
    names = [.. scenarios.Keys];

foreach (var name in names)
{
    var report = await scenarios[name](quick);
    report.Print(Console.Out);
}
return 0;
