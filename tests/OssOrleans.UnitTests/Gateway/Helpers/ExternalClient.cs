using System.Diagnostics;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>Finds and runs the S3 clients installed on the machine (python3 with boto3, the AWS CLI), bounded in time.</summary>
internal static class ExternalClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The executable's full path: as given when rooted, else the first match on PATH; null when absent.</summary>
    public static string? Find(string name)
    {
        if (Path.IsPathRooted(name))
            return File.Exists(name) ? name : null;
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Join(directory, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>The real file behind a path (a pyenv shim and the interpreter it runs are told apart by running them).</summary>
    public static string Canonical(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    public static async Task<(int ExitCode, string Output)> RunAsync(string executable, IEnumerable<string> arguments, IDictionary<string, string> environment,
        string workingDirectory)
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
        // Nothing from the user's AWS configuration may leak in: credentials, profiles, endpoints, checksum settings.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>An environment for a client that knows nothing but the gateway's test credentials.</summary>
    public static Dictionary<string, string> ClientEnvironment(string home) => new()
    {
        ["HOME"] = home,
        ["AWS_ACCESS_KEY_ID"] = RecordingS3Server.AccessKeyId,
        ["AWS_SECRET_ACCESS_KEY"] = RecordingS3Server.Secret,
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_CONFIG_FILE"] = Path.Join(home, "config"),
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Join(home, "credentials"),
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_PAGER"] = "",
        ["PYTHONWARNINGS"] = "ignore",
    };
}
