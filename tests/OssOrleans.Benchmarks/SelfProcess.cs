using System.Diagnostics;
using System.Globalization;

namespace OssOrleans.Benchmarks;

/// <summary>Runs this benchmark program again as a child process (a separate client), and returns one tagged output line.</summary>
internal static class SelfProcess
{
    /// <summary>
    /// Runs the program with <paramref name="args"/> and returns the rest of its first stdout line that starts with
    /// <paramref name="tag"/> and a space; fails with its output when it exits non-zero or prints no such line.
    /// </summary>
    public static async Task<string> RunAsync(string tag, params string[] args)
    {
        using var p = Process.Start(StartInfo(args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        string output = await stdout;
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(tag + " ", StringComparison.Ordinal));
        string errors = await stderr;
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{args[0]} exited {p.ExitCode}: {output} {errors}"));
        return line[(tag.Length + 1)..].Trim();
    }

    /// <summary>How to start this program again with <paramref name="args"/>, with stdin, stdout and stderr redirected.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        // Under `dotnet run` the process is the apphost; under `dotnet Benchmarks.dll` it is the dotnet host, which
        // needs the assembly path first.
        string host = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            psi.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return psi;
    }
}
