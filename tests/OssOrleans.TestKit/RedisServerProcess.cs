using System.Diagnostics;
using System.Text;

namespace OssOrleans.TestKit;

/// <summary>
/// Debian's <c>redis-server</c> as a child process on a free loopback port, with no persistence (no RDB, no AOF) and a
/// temporary working folder; killed and the folder deleted on dispose. Installed by tests/install-test-deps.sh.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output;

    private RedisServerProcess(Process process, string directory, StringBuilder output, int port)
    {
        _process = process;
        _directory = directory;
        _output = output;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string: <c>127.0.0.1:&lt;port&gt;</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The redis-server executable on PATH, or null.</summary>
    public static string? FindExecutable()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    public static async Task<RedisServerProcess> StartAsync(TimeSpan? timeout = null)
    {
        string exe = FindExecutable() ?? throw new InvalidOperationException(
            "redis-server is not on PATH; run tests/install-test-deps.sh as root (it installs Debian's redis-server)");
        var wait = timeout ?? TimeSpan.FromSeconds(20);
        // redis-server cannot bind port 0, so a chosen port may be taken meanwhile: try a few.
        for (int attempt = 1; ; attempt++)
        {
            int port = FreePort.GetLoopbackPort();
            string dir = Directory.CreateTempSubdirectory("oss-redis-").FullName;
            var psi = new ProcessStartInfo(exe)
            {
                WorkingDirectory = dir,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--protected-mode", "yes" })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
            var output = new StringBuilder();
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnLine(string? line)
            {
                if (line is null) return;
                lock (output) output.AppendLine(line);
                if (line.Contains("Ready to accept connections", StringComparison.Ordinal)) ready.TrySetResult();
            }
            process.OutputDataReceived += (_, e) => OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(wait)).ConfigureAwait(false);
            var result = new RedisServerProcess(process, dir, output, port);
            if (ready.Task.IsCompleted && await FreePort.IsListeningAsync(port).ConfigureAwait(false))
                return result;
            string text = result.Output;
            await result.DisposeAsync().ConfigureAwait(false);
            if (attempt >= 3 || !text.Contains("Address already in use", StringComparison.Ordinal))
                throw new TimeoutException($"redis-server did not become ready on port {port} within {wait.TotalSeconds:0} s; it printed:\n{text}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcessCleanup.KillAndDeleteAsync(_process, _directory).ConfigureAwait(false);
    }
}
