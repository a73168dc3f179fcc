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

    private static readonly Dictionary<string, string> ComposeSecrets = new()
    {
        ["OSSORLEANS_CLUSTER_SECRET"] = new string('c', 64), ["OSSORLEANS_TENANT_SECRET"] = "ops-secret-0123456789",
    };

    [SkippableFact]
    public async Task ComposeFile_IsValid_ThreeRedisSilosRedisS3StoreCertsAndDashboardPort()
    {
        string? compose = OnPath("docker-compose");
        Skip.If(compose is null, "docker-compose is not installed (tests/install-test-deps.sh installs Debian's docker-compose as root)");
        var (code, output) = await RunAsync(compose!, ["-f", "docker-compose.yml", "config", "--services"], ComposeSecrets);
        Assert.True(code == 0, $"docker-compose config failed:\n{output}");
        var services = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        Assert.Superset(new HashSet<string> { "silo1", "silo2", "silo3", "redis", "minio", "certs" }, services);

        (code, output) = await RunAsync(compose!, ["-f", "docker-compose.yml", "config"], ComposeSecrets);
        Assert.True(code == 0, $"docker-compose config failed:\n{output}");
        Assert.Equal(3, CountOf(output, "OSSORLEANS_Cluster__Mode: Redis"));
        Assert.Contains("published: 8080", output, StringComparison.Ordinal);

        // Without the cluster secret or the tenant's secret the silos would refuse to start, so compose refuses first.
        foreach (var missing in ComposeSecrets.Keys)
        {
            var env = ComposeSecrets.ToDictionary(e => e.Key, e => e.Key == missing ? "" : e.Value);
            (code, output) = await RunAsync(compose!, ["-f", "docker-compose.yml", "config", "-q"], env);
            Assert.NotEqual(0, code);
            Assert.Contains(missing, output, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task ComposeFile_SiloEnvironment_PassesTheSilosOwnValidation()
    {
        // What `docker-compose up` would give silo1, bound the way the silo binds it: it listens beyond loopback, so it must
        // carry tenants, TLS over https and a cluster secret (certificate paths point at a test CA's files here).
        string? compose = OnPath("docker-compose");
        string? python = OnPath("python3");
        Skip.If(compose is null || python is null, "docker-compose or python3 is not installed");
        var (code, yaml) = await RunAsync(compose!, ["-f", "docker-compose.yml", "config"], ComposeSecrets);
        Assert.True(code == 0, yaml);
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, yaml);
        try
        {
            var (pcode, json) = await RunAsync(python!, ["-c",
                "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1]))['services']['silo1']['environment']))", file]);
            Skip.If(json.Contains("No module named 'yaml'", StringComparison.Ordinal), "python3-yaml is not installed (docker-compose brings it)");
            Assert.True(pcode == 0, json);
            var env = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json)!;
            using var certs = TestCertificates.Create();
            var paths = new Dictionary<string, string> { ["/certs/silo.pem"] = certs.SiloCertificateFile, ["/certs/silo.key"] = certs.SiloKeyFile, ["/certs/ca.pem"] = certs.CaFile };
            var values = env.Where(e => e.Key.StartsWith("OSSORLEANS_", StringComparison.Ordinal))
                .ToDictionary(e => e.Key["OSSORLEANS_".Length..].Replace("__", ":", StringComparison.Ordinal), e => (string?)paths.GetValueOrDefault(e.Value, e.Value));
            var settings = SiloConfiguration.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
            Assert.False(settings.Tenants.IsAnonymous);
            Assert.True(settings.Tls.Enabled);
        }
        finally
        {
            File.Delete(file);
        }
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
