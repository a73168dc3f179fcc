using System.Diagnostics;
using OssOrleans.TestKit;
using Xunit.Abstractions;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>
/// s3fs (Debian's FUSE client) mounts the gateway read-only; a model file is loaded from the mount by torch, a large file
/// is read back byte for byte, and a directory lists as the origin has it. Skipped, with the reason, where FUSE or the
/// tools are missing.
/// </summary>
[Collection(GatewaySiloCollection.Name)]
public sealed class S3fsGatewayTests(GatewaySiloFixture fixture, ITestOutputHelper output)
{
    private const string Bucket = GatewaySiloFixture.Bucket;

    [SkippableFact]
    public async Task S3fs_ReadOnlyMount_ModelLoadsAndBytesAndListingsMatch()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "s3fs mounts are tested on Linux");
        string? s3fs = ExternalTool.Find("s3fs");
        Skip.If(s3fs is null, "s3fs is not installed (tests/install-test-deps.sh installs Debian's s3fs)");
        Skip.If(!File.Exists("/dev/fuse"), "/dev/fuse is missing: FUSE mounts are not possible on this machine");
        string? fusermount = ExternalTool.Find("fusermount") ?? ExternalTool.Find("fusermount3");
        Skip.If(fusermount is null, "fusermount is not installed (it comes with fuse, a dependency of s3fs)");
        string? missing = await ExternalTool.MissingPythonModulesAsync("torch");
        Skip.If(missing is not null, missing);

        using var home = new ExternalTool.TempHome();
        var saved = ToolRun.LastJson(await ToolRun.RunAsync(ExternalTool.DebianPython, [ToolRun.Script("torch_model.py"), "save", home.Combine("model.pt")], home));
        fixture.Origin.PutObject(Bucket, "s3fs/models/model.pt", await File.ReadAllBytesAsync(home.Combine("model.pt")));
        var large = new byte[12 * (1 << 20) + 5];
        new Random(71).NextBytes(large);
        fixture.Origin.PutObject(Bucket, "s3fs/large.bin", large);
        string mount = Directory.CreateDirectory(home.Combine("mnt")).FullName;
        await File.WriteAllTextAsync(home.Combine("passwd"), "gateway-test:gateway-test-secret\n");
        // s3fs refuses a password file others may read.
        if (OperatingSystem.IsLinux())
            File.SetUnixFileMode(home.Combine("passwd"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // In the foreground as this test's child, so the test owns the process it stops.
        var start = new ProcessStartInfo(s3fs!)
        {
            ArgumentList = { Bucket, mount, "-f", "-o", "ro", "-o", $"passwd_file={home.Combine("passwd")}", "-o", $"url={fixture.Endpoint}",
                "-o", "use_path_request_style", "-o", "stat_cache_expire=1", "-o", "dbglevel=warn" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await WaitForMountAsync(mount, process);
            var loaded = ToolRun.LastJson(await ToolRun.RunAsync(ExternalTool.DebianPython,
                [ToolRun.Script("torch_model.py"), "load", Path.Combine(mount, "s3fs", "models", "model.pt")], home));
            byte[] read = await File.ReadAllBytesAsync(Path.Combine(mount, "s3fs", "large.bin"));
            var files = Directory.GetFiles(Path.Combine(mount, "listing", "d2")).Select(f => "listing/d2/" + Path.GetFileName(f)).Order(StringComparer.Ordinal);
            var directories = Directory.GetDirectories(Path.Combine(mount, "listing")).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal);

            output.WriteLine(loaded.ToString());
            Assert.Equal(saved.GetProperty("sum").GetDouble(), loaded.GetProperty("sum").GetDouble());
            Assert.Equal(saved.GetProperty("tensors").GetInt32(), loaded.GetProperty("tensors").GetInt32());
            Assert.Equal(large, read);
            Assert.Equal(fixture.Origin.Keys(Bucket, "listing/d2/"), files);
            Assert.Equal(["d0", "d1", "d2", "d3"], directories);
        }
        finally
        {
            await ExternalTool.RunAsync(fusermount!, ["-u", mount], home.Environment(), home.Path, TimeSpan.FromSeconds(30));
            if (!process.WaitForExit(10_000))
                process.Kill();
            output.WriteLine(await stderr);
        }
    }

    private static async Task WaitForMountAsync(string mount, Process s3fs)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.ReadAllText("/proc/mounts").Contains(" " + mount + " ", StringComparison.Ordinal))
        {
            if (s3fs.HasExited)
                throw new InvalidOperationException($"s3fs exited with {s3fs.ExitCode} before mounting {mount}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited 30 s for s3fs to mount {mount}; /proc/mounts does not list it");
            await Task.Delay(100);
        }
    }
}
