using System.Diagnostics;
using System.Text;

namespace OssOrleans.TestKit;

/// <summary>
/// The real silo executable as a child process (the project that uses this references the silo project, so the
/// executable sits beside it). Waits until the silo says it is ready; kills it on dispose.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    /// <summary>What the silo prints once it listens (SiloApp.ReadyLine).</summary>
    public const string ReadyLine = "OssOrleans silo ready.";

    private readonly Process _process;
    private readonly StringBuilder _output;

    private readonly string[] _args;

    /// <summary>What the silo prints before the S3 gateway's address.</summary>
    public const string S3GatewayLine = "  S3 gateway: ";

    private SiloProcess(Process process, StringBuilder output, int httpPort, int siloPort, int gatewayPort, string[] args, string workingDirectory)
    {
        _process = process;
        _output = output;
        _args = args;
        HttpPort = httpPort;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        WorkingDirectory = workingDirectory;
    }

    /// <summary>The S3 gateway's first URL as the silo printed it (http://127.0.0.1:port), or null when it serves none.</summary>
    public string? S3Url
    {
        get
        {
            string? line = Output.Split('\n').FirstOrDefault(l => l.StartsWith(S3GatewayLine, StringComparison.Ordinal));
            return line?[S3GatewayLine.Length..].Split(',')[0].Trim();
        }
    }

    public int HttpPort { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public string Gateway => $"127.0.0.1:{GatewayPort}";

    public int ProcessId => _process.Id;

    public string WorkingDirectory { get; }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts a silo with free ports and the extra <paramref name="args"/> (configuration flags).</summary>
    public static Task<SiloProcess> StartAsync(IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var ports = FreePort.GetLoopbackPorts(3);
        return StartAsync([.. args], workingDirectory ?? Directory.CreateTempSubdirectory("oss-silo-").FullName, ports[0], ports[1], ports[2], timeout);
    }

    /// <summary>
    /// Kills this silo (if it still runs) and starts it again: a new process, so a new incarnation, with the same flags,
    /// working folder and ports, as a machine that rebooted would come back. Dispose the new one; this one is done.
    /// </summary>
    public async Task<SiloProcess> StartAgainAsync(TimeSpan? timeout = null)
    {
        Kill();
        await _process.WaitForExitAsync().ConfigureAwait(false);
        return await StartAsync(_args, WorkingDirectory, HttpPort, SiloPort, GatewayPort, timeout).ConfigureAwait(false);
    }

    private static async Task<SiloProcess> StartAsync(string[] args, string workingDirectory, int http, int silo, int gateway, TimeSpan? timeout)
    {
        string exe = Path.Combine(AppContext.BaseDirectory, "OssOrleans.Silo");
        if (!File.Exists(exe))
            throw new FileNotFoundException($"the silo executable is not beside {AppContext.BaseDirectory}; reference silo/OssOrleans.Silo from this project", exe);
        var psi = new ProcessStartInfo(exe)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The S3 gateway on a free port (the executable's default, 9000, would collide between silos); args may override it.
        foreach (var a in new[] { "--urls", $"http://127.0.0.1:{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}", "--Gateway:Urls=http://127.0.0.1:0" }.Concat(args))
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            lock (output) output.AppendLine(e.Data);
            if (e.Data?.StartsWith(ReadyLine, StringComparison.Ordinal) == true) ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var wait = timeout ?? TimeSpan.FromSeconds(90);
        await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(wait)).ConfigureAwait(false);
        var result = new SiloProcess(process, output, http, silo, gateway, args, workingDirectory);
        if (!ready.Task.IsCompleted)
        {
            string text = result.Output;
            await result.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"waited {wait.TotalSeconds:0} s for the silo to print '{ReadyLine}'; it printed:\n{text}");
        }
        return result;
    }

    /// <summary>Kills the process at once, as a machine failure would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
    }
}
