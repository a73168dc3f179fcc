using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// The origin simulator in a process of its own (the hidden sub-command <c>origin-sim</c> of this program), so that when
/// tools are compared, the origin's CPU is charged to neither the tools nor the silo. The parent fills it and reads its
/// counters through a line protocol on stdin/stdout.
/// </summary>
internal sealed class OriginProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly SemaphoreSlim _lock = new(1, 1);

    private OriginProcess(Process process, Uri endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts the simulator shaped like an OSS intranet endpoint, with <paramref name="bucket"/>.</summary>
    public static async Task<OriginProcess> StartAsync(string bucket)
    {
        var process = Process.Start(SelfProcess.StartInfo("origin-sim", bucket))!;
        _ = process.StandardError.ReadToEndAsync();
        string? line = await process.StandardOutput.ReadLineAsync();
        if (line is null || !line.StartsWith("origin-sim-ready ", StringComparison.Ordinal))
            throw new InvalidOperationException($"the origin process did not start: {line}");
        return new OriginProcess(process, new Uri(line["origin-sim-ready ".Length..]));
    }

    /// <summary>Stores <paramref name="count"/> objects of <paramref name="size"/> random bytes (one array shared by all) under the keys given.</summary>
    public Task PutSharedAsync(string bucket, string keyFormat, int count, long size, int seed) =>
        CommandAsync($"put {bucket} {count} {size} {seed} {keyFormat}");

    public async Task<SimulatorCounters> CountersAsync() =>
        JsonSerializer.Deserialize<SimulatorCounters>(await CommandAsync("counters"))!;

    public Task ResetCountersAsync() => CommandAsync("reset");

    private async Task<string> CommandAsync(string command)
    {
        await _lock.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync();
            string? answer = await _process.StandardOutput.ReadLineAsync();
            if (answer is null || !answer.StartsWith("ok", StringComparison.Ordinal))
                throw new InvalidOperationException($"origin process: '{command}' answered '{answer}'");
            return answer.Length > 3 ? answer[3..] : "";
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync("quit");
            await _process.StandardInput.FlushAsync();
            if (!_process.WaitForExit(10_000))
                _process.Kill();
        }
        catch (IOException)
        {
        }
        _process.Dispose();
    }

    /// <summary>The child: serves until "quit". Commands: put, counters, reset.</summary>
    public static async Task<int> MainAsync(string bucket)
    {
        var settings = SimulatorSettings.OssIntranetLike;
        // Counter-based ETags: no MD5 over the gigabytes put here (the simulator's own measure for benchmarks).
        settings.Md5ETags = false;
        await using var sim = await OriginSimulator.StartNewAsync(settings, bucket);
        Console.WriteLine("origin-sim-ready " + sim.Endpoint);
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ', 6);
            switch (parts[0])
            {
                case "put":
                    var data = GC.AllocateUninitializedArray<byte>(checked((int)long.Parse(parts[3], CultureInfo.InvariantCulture)));
                    new Random(int.Parse(parts[4], CultureInfo.InvariantCulture)).NextBytes(data);
                    int count = int.Parse(parts[2], CultureInfo.InvariantCulture);
                    sim.PutSharedObjects(parts[1], Enumerable.Range(0, count).Select(i => string.Format(CultureInfo.InvariantCulture, parts[5], i)), data);
                    Console.WriteLine("ok");
                    break;
                case "counters":
                    Console.WriteLine("ok " + JsonSerializer.Serialize(sim.Counters));
                    break;
                case "reset":
                    sim.ResetCounters();
                    Console.WriteLine("ok");
                    break;
                case "quit":
                    return 0;
                default:
                    Console.WriteLine("error unknown command " + parts[0]);
                    break;
            }
        }
        return 0;
    }
}
