using System.Diagnostics;

namespace OssOrleans.TestKit;

/// <summary>
/// The S3 clients other people wrote, as installed from Debian's packages (tests/install-test-deps.sh): each found at its
/// Debian path first (a python3 or aws on PATH may be a pyenv one without the modules, or another version), run as a
/// separate process with an environment of its own: none of the user's AWS settings, a HOME of its own.
/// </summary>
public static class ExternalTool
{
    /// <summary>Debian's interpreter, where python3-boto3 and python3-torch install their modules.</summary>
    public const string DebianPython = "/usr/bin/python3";

    /// <summary>The executable's full path: the Debian path when given and present, else the first match on PATH; null when absent.</summary>
    public static string? Find(string name)
    {
        if (Path.IsPathRooted(name))
            return File.Exists(name) ? name : null;
        foreach (string dir in new[] { "/usr/bin", "/bin" }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)))
        {
            string candidate = Path.Join(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>Null when Debian's python3 imports every module named; otherwise why not (a skip reason).</summary>
    public static async Task<string?> MissingPythonModulesAsync(params string[] modules)
    {
        if (!File.Exists(DebianPython))
            return $"{DebianPython} is not installed (apt-get install python3)";
        using var home = new TempHome();
        var (code, output) = await RunAsync(DebianPython, ["-c", "import " + string.Join(", ", modules)], home.Environment(), home.Path, TimeSpan.FromSeconds(60));
        return code == 0 ? null : $"{DebianPython} cannot import {string.Join(", ", modules)} (tests/install-test-deps.sh installs them): {Last(output)}";
    }

    /// <summary>Runs a tool to its end (at most <paramref name="timeout"/>); returns its exit code and stdout + stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string executable, IEnumerable<string> arguments, IDictionary<string, string> environment,
        string workingDirectory, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(IsForeignSetting).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromMinutes(3);
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} {string.Join(' ', arguments)} did not finish within {limit.TotalSeconds:0} s; it printed: {await stdout.ConfigureAwait(false)}");
        }
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    // The user's AWS settings (credentials, profiles, endpoints, a CA bundle that rclone cannot load over http) stay out.
    private static bool IsForeignSetting(string name) =>
        name.StartsWith("AWS_", StringComparison.Ordinal) || name.StartsWith("RCLONE_", StringComparison.Ordinal)
        || name is "S3CMD_CONFIG" or "BOTO_CONFIG" or "PYTHONPATH" or "PYTHONHOME";

    private static string Last(string text) => text.Trim().Split('\n').LastOrDefault() ?? "";

    /// <summary>A HOME of its own for a tool (its config files, caches), removed on dispose.</summary>
    public sealed class TempHome : IDisposable
    {
        public TempHome() => Path = Directory.CreateTempSubdirectory("oss-tool-home-").FullName;

        public string Path { get; }

        public string Combine(string name) => System.IO.Path.Combine(Path, name);

        /// <summary>An environment with this HOME and the given S3 credentials (region us-east-1, no instance metadata).</summary>
        public Dictionary<string, string> Environment(string accessKey = "gateway-test", string secret = "gateway-test-secret") => new()
        {
            ["HOME"] = Path,
            ["AWS_ACCESS_KEY_ID"] = accessKey,
            ["AWS_SECRET_ACCESS_KEY"] = secret,
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_CONFIG_FILE"] = Combine("aws-config"),
            ["AWS_SHARED_CREDENTIALS_FILE"] = Combine("aws-credentials"),
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_PAGER"] = "",
            ["PYTHONWARNINGS"] = "ignore",
        };

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
