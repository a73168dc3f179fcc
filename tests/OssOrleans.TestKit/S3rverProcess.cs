using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace OssOrleans.TestKit;

/// <summary>
/// Runs the real s3rver 3.7.1 (npm, installed in &lt;repo&gt;/tools by tests/install-test-deps.sh) as a child
/// process on a free loopback port, with a temporary data directory and the requested buckets. The process
/// tree is killed and the directory deleted on dispose. Credentials are S3RVER/S3RVER. Known gaps of s3rver:
/// AbortMultipartUpload answers 405, suffix ranges (bytes=-N) are wrong, the multipart ETag is a plain MD5,
/// signatures are not checked when <see cref="S3rverOptions.AllowMismatchedSignatures"/> is set.
/// </summary>
public sealed partial class S3rverProcess : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly SemaphoreSlim s_installGate = new(1, 1);
    private static bool s_installAttempted;

    private readonly Process _process;
    private readonly string _directory;
    private readonly bool _ownsDirectory;
    private readonly StringBuilder _output;
    private int _disposed;

    private S3rverProcess(Process process, string directory, bool ownsDirectory, StringBuilder output, Uri endpoint)
    {
        _process = process;
        _directory = directory;
        _ownsDirectory = ownsDirectory;
        _output = output;
        Endpoint = endpoint;
    }

    /// <summary>http://127.0.0.1:&lt;port&gt;/</summary>
    public Uri Endpoint { get; }

    /// <summary>S3RVER</summary>
    public string AccessKeyId => AccessKey;

    /// <summary>S3RVER</summary>
    public string SecretAccessKey => SecretKey;

    /// <summary>The data directory (objects are stored as files there).</summary>
    public string DataDirectory => _directory;

    public int ProcessId => _process.Id;

    /// <summary>What the process printed so far (stdout and stderr; its request log when not silent).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts s3rver with the given buckets created.</summary>
    public static Task<S3rverProcess> StartAsync(params string[] buckets) =>
        StartAsync(new S3rverOptions { Buckets = buckets });

    public static async Task<S3rverProcess> StartAsync(S3rverOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string executable = await EnsureInstalledAsync(cancellationToken).ConfigureAwait(false);

        bool ownsDirectory = options.DataDirectory is null;
        string directory = options.DataDirectory
            ?? Path.Combine(Path.GetTempPath(), "s3rver-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);

        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        psi.ArgumentList.Add("--directory");
        psi.ArgumentList.Add(directory);
        psi.ArgumentList.Add("--address");
        psi.ArgumentList.Add("127.0.0.1");
        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add("0"); // s3rver binds a free port and prints it; no race with other processes
        psi.ArgumentList.Add("--no-vhost-buckets");
        if (options.Silent)
        {
            psi.ArgumentList.Add("--silent");
        }
        if (options.AllowMismatchedSignatures)
        {
            psi.ArgumentList.Add("--allow-mismatched-signatures");
        }
        foreach (var bucket in options.Buckets)
        {
            psi.ArgumentList.Add("--configure-bucket");
            psi.ArgumentList.Add(bucket);
        }
        psi.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";

        var output = new StringBuilder();
        var portFound = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (output)
            {
                if (output.Length < 4 * 1024 * 1024)
                {
                    output.AppendLine(line);
                }
            }
            var m = ListeningLine().Match(line);
            if (m.Success)
            {
                portFound.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => portFound.TrySetException(new InvalidOperationException("s3rver exited before it was listening."));
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {executable}.");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var timeout = options.StartTimeout;
        var sw = Stopwatch.StartNew();
        try
        {
            int port;
            try
            {
                port = await portFound.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException(
                    $"s3rver did not print 'S3rver listening on 127.0.0.1:<port>' within {timeout.TotalSeconds:0}s. Output:\n{Snapshot(output)}");
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message} Exit code {SafeExitCode(process)}. Output:\n{Snapshot(output)}");
            }
            while (!await FreePort.IsListeningAsync(port, cancellationToken).ConfigureAwait(false))
            {
                if (sw.Elapsed > timeout)
                {
                    throw new TimeoutException(
                        $"s3rver did not accept TCP connections on 127.0.0.1:{port} within {timeout.TotalSeconds:0}s. Output:\n{Snapshot(output)}");
                }
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
            return new S3rverProcess(process, directory, ownsDirectory, output, new Uri($"http://127.0.0.1:{port}/"));
        }
        catch
        {
            Kill(process);
            process.Dispose();
            if (ownsDirectory)
            {
                TryDelete(directory);
            }
            throw;
        }
    }

    /// <summary>
    /// Returns the path of the s3rver executable, running tests/install-test-deps.sh once per process when it
    /// is missing. Throws a clear exception when node or npm are absent.
    /// </summary>
    public static async Task<string> EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        string executable = RepoPaths.S3rverExecutable;
        if (File.Exists(executable) && HasCommand("node"))
        {
            return executable;
        }
        if (!HasCommand("node") || !HasCommand("npm"))
        {
            throw new InvalidOperationException(
                "s3rver needs node and npm on PATH (Debian: apt-get install -y nodejs npm), then run tests/install-test-deps.sh.");
        }
        await s_installGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(executable) && !s_installAttempted)
            {
                s_installAttempted = true;
                await RunInstallScriptAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            s_installGate.Release();
        }
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"s3rver is missing at {executable} even after running {RepoPaths.InstallTestDepsScript}.");
        }
        return executable;
    }

    private static async Task RunInstallScriptAsync(CancellationToken cancellationToken)
    {
        // Other test processes may install at the same moment; serialize through a lock file.
        string lockPath = Path.Combine(Path.GetTempPath(), "ossorleans-install-test-deps.lock");
        FileStream? lockFile = null;
        var deadline = Stopwatch.StartNew();
        while (lockFile is null)
        {
            try
            {
                lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
        }
        using (lockFile)
        {
            if (File.Exists(RepoPaths.S3rverExecutable))
            {
                return;
            }
            var psi = new ProcessStartInfo("bash")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = RepoPaths.Root,
            };
            psi.ArgumentList.Add(RepoPaths.InstallTestDepsScript);
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start bash.");
            var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
            await p.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            // The script exits non-zero when it cannot install Debian packages as non-root; s3rver may be fine anyway.
            if (!File.Exists(RepoPaths.S3rverExecutable))
            {
                throw new InvalidOperationException(
                    $"{RepoPaths.InstallTestDepsScript} exited with {p.ExitCode} and did not install s3rver.\n" +
                    await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
            }
        }
    }

    private static bool HasCommand(string name)
    {
        string? path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, name)))
            {
                return true;
            }
        }
        return false;
    }

    [GeneratedRegex(@"S3rver listening on \S+?:(\d+)")]
    private static partial Regex ListeningLine();

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string SafeExitCode(Process p)
    {
        try
        {
            return p.HasExited ? p.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "(running)";
        }
        catch (InvalidOperationException)
        {
            return "(unknown)";
        }
    }

    private static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Kill(_process);
            _process.Dispose();
            if (_ownsDirectory)
            {
                TryDelete(_directory);
            }
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Options for <see cref="S3rverProcess.StartAsync(S3rverOptions, CancellationToken)"/>.</summary>
public sealed class S3rverOptions
{
    /// <summary>Buckets created at startup (<c>--configure-bucket NAME</c>).</summary>
    public IReadOnlyList<string> Buckets { get; init; } = [];

    /// <summary>Pass <c>--silent</c> (default). When false, s3rver's request log is collected in <see cref="S3rverProcess.Output"/>.</summary>
    public bool Silent { get; init; } = true;

    /// <summary>Pass <c>--allow-mismatched-signatures</c>, so any well-formed signature is accepted. Default false.</summary>
    public bool AllowMismatchedSignatures { get; init; }

    /// <summary>Use this data directory instead of a new temporary one (which is deleted on dispose).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>How long to wait for s3rver to listen. Default 30 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
