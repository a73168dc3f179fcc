using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using OssOrleans.Silo.Hosting;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Operations;

/// <summary>
/// docker-compose.yml and deploy/ are checked without a Docker engine (none runs in CI): the compose file through
/// `docker-compose config`, the manifests as YAML, the Dockerfile's layering by reading it.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static async Task<(int Code, string Output)> RunAsync(string exe, string[] args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }

    private static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    [SkippableFact]
    public async Task ComposeFile_IsValid_ThreeRedisSilosRedisS3StoreAndDashboardPort()
    {
        string? compose = OnPath("docker-compose");
        Skip.If(compose is null, "docker-compose is not installed (tests/install-test-deps.sh installs Debian's docker-compose as root)");
        var (code, output) = await RunAsync(compose!, ["-f", "docker-compose.yml", "config", "--services"], new Dictionary<string, string> { ["OSSORLEANS_ADMIN_TOKEN"] = "x" });
        Assert.True(code == 0, $"docker-compose config failed:\n{output}");
        var services = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        Assert.Superset(new HashSet<string> { "silo1", "silo2", "silo3", "redis", "minio" }, services);

        (code, output) = await RunAsync(compose!, ["-f", "docker-compose.yml", "config"], new Dictionary<string, string> { ["OSSORLEANS_ADMIN_TOKEN"] = "x" });
        Assert.True(code == 0, $"docker-compose config failed:\n{output}");
        Assert.Equal(3, CountOf(output, "OSSORLEANS_Cluster__Mode: Redis"));
        Assert.Contains("published: 8080", output, StringComparison.Ordinal);

        // Without an admin token the silos would refuse to start (they listen beyond loopback), so compose refuses first.
        (code, output) = await RunAsync(compose!, ["-f", "docker-compose.yml", "config", "-q"], new Dictionary<string, string> { ["OSSORLEANS_ADMIN_TOKEN"] = "" });
        Assert.NotEqual(0, code);
        Assert.Contains("OSSORLEANS_ADMIN_TOKEN", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task KubernetesManifests_AreYamlWithDeploymentServiceAndRbac()
    {
        string? python = OnPath("python3");
        Skip.If(python is null, "python3 is not installed");
        var (code, output) = await RunAsync(python!, ["-c",
            "import glob, yaml\n" +
            "for f in sorted(glob.glob('deploy/k8s/*.yaml')):\n" +
            "    for d in yaml.safe_load_all(open(f)):\n" +
            "        print(d['kind'], d['metadata']['name'])\n"]);
        Skip.If(output.Contains("No module named 'yaml'", StringComparison.Ordinal), "python3-yaml is not installed (docker-compose brings it)");
        Assert.True(code == 0, output);
        foreach (var expected in new[] { "Deployment ossorleans-silo", "Service ossorleans", "Role ossorleans-pods", "RoleBinding ossorleans-pods", "ServiceAccount ossorleans", "Deployment ossorleans-redis" })
            Assert.Contains(expected, output, StringComparison.Ordinal);
        string silo = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "k8s", "silo.yaml"));
        Assert.Contains("value: Kubernetes", silo, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dockerfile_RestoresBeforeCopyingSources_RunsAsNonRootOnTheAspNetRuntime()
    {
        var lines = await File.ReadAllLinesAsync(Path.Combine(RepoPaths.Root, "deploy", "Dockerfile"));
        int restore = Array.FindIndex(lines, l => l.Contains("dotnet restore", StringComparison.Ordinal));
        int sources = Array.FindIndex(lines, l => l.StartsWith("COPY grains/ ", StringComparison.Ordinal));
        Assert.True(restore > 0 && sources > restore, "the restore layer must come before the sources are copied");
        Assert.All(lines.Take(restore).Where(l => l.StartsWith("COPY ", StringComparison.Ordinal)),
            l => Assert.True(l.Contains(".csproj", StringComparison.Ordinal) || l.Contains(".props", StringComparison.Ordinal), $"only build files before restore: {l}"));
        var runtime = lines.Last(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        Assert.Contains("dotnet/aspnet:", runtime, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("USER $APP_UID", StringComparison.Ordinal));
    }

    [Fact]
    public void KubernetesMode_WithoutRedis_IsAConfigurationError()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Cluster:Mode"] = "Kubernetes" }).Build();
        var ex = Assert.Throws<SiloConfigurationException>(() => SiloConfiguration.Bind(config));
        Assert.StartsWith("Cluster:Redis:", ex.Message, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value)
    {
        int n = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
            n++;
        return n;
    }
}
