using System.Text.Json;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Gateway;

/// <summary>Runs a client tool against the gateway and fails the test with everything it printed when it fails.</summary>
internal static class ToolRun
{
    /// <summary>The scripts beside the test assembly (Gateway/Scripts, copied to the output).</summary>
    public static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Gateway", "Scripts", name);

    public static async Task<string> RunAsync(string executable, IEnumerable<string> arguments, ExternalTool.TempHome home,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var env = environment ?? home.Environment();
        var args = arguments.ToList();
        var (code, output) = await ExternalTool.RunAsync(executable, args, env, home.Path, timeout).ConfigureAwait(false);
        Assert.True(code == 0, $"{Path.GetFileName(executable)} {string.Join(' ', args)} exited {code}:\n{output}");
        return output;
    }

    /// <summary>The last JSON line a script printed.</summary>
    public static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.Split('\n').Last(l => l.TrimStart().StartsWith('{'))).RootElement.Clone();

    public static List<string> Strings(JsonElement element) => [.. element.EnumerateArray().Select(e => e.GetString()!)];
}
