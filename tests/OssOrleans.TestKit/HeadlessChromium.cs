using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OssOrleans.TestKit;

/// <summary>
/// Debian's <c>chromium</c> in headless mode, driven over the Chrome DevTools Protocol with a plain WebSocket (no browser
/// automation package): navigate, evaluate JavaScript, wait for a condition, take a screenshot. One page per instance.
/// </summary>
public sealed partial class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly StringBuilder _output;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private Task _receiveLoop = Task.CompletedTask;
    private int _nextId;

    private HeadlessChromium(Process process, string profile, StringBuilder output)
    {
        _process = process;
        _profile = profile;
        _output = output;
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The browser executable on PATH (Debian's chromium, or Chrome), or null when none is installed.</summary>
    public static string? FindExecutable()
    {
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }

    public static async Task<HeadlessChromium> StartAsync(int width = 1400, int height = 1000, TimeSpan? timeout = null)
    {
        string exe = FindExecutable() ?? throw new InvalidOperationException("chromium is not on PATH (tests/install-test-deps.sh installs Debian's chromium)");
        string profile = Directory.CreateTempSubdirectory("oss-chromium-").FullName;
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", $"--window-size={width},{height}",
            // Root (CI) cannot use the sandbox; the browser only visits a loopback page the test serves.
            "--no-sandbox",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}", "about:blank",
        })
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var output = new StringBuilder();
        var endpoint = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (output) if (output.Length < 1 << 20) output.AppendLine(line);
            var m = DevToolsLine().Match(line);
            if (m.Success) endpoint.TrySetResult(new Uri(m.Groups[1].Value));
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new HeadlessChromium(process, profile, output);
        try
        {
            var wait = timeout ?? TimeSpan.FromSeconds(60);
            await Task.WhenAny(endpoint.Task, process.WaitForExitAsync(), Task.Delay(wait)).ConfigureAwait(false);
            if (!endpoint.Task.IsCompleted)
                throw new TimeoutException($"chromium did not print its DevTools endpoint within {wait.TotalSeconds:0} s; it printed:\n{browser.Output}");
            var ws = endpoint.Task.Result;
            // The browser endpoint tells the port; the page target (about:blank) has its own socket.
            using var http = new HttpClient();
            var targets = JsonNode.Parse(await http.GetStringAsync($"http://{ws.Authority}/json/list").ConfigureAwait(false))!.AsArray();
            string pageSocket = targets.First(t => (string?)t!["type"] == "page")!["webSocketDebuggerUrl"]!.GetValue<string>();
            await browser._socket.ConnectAsync(new Uri(pageSocket), CancellationToken.None).ConfigureAwait(false);
            browser._receiveLoop = Task.Run(browser.ReceiveLoopAsync);
            await browser.SendAsync("Page.enable").ConfigureAwait(false);
            await browser.SendAsync("Runtime.enable").ConfigureAwait(false);
            await browser.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject
            {
                ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false,
            }).ConfigureAwait(false);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task NavigateAsync(string url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url });

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its JSON value.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true,
        }).ConfigureAwait(false);
        if (result["exceptionDetails"] is JsonNode ex)
            throw new InvalidOperationException($"page script failed: {ex.ToJsonString()}");
        return result["result"]?["value"]?.DeepClone();
    }

    /// <summary>Polls a JavaScript condition until it is true; the timeout message names it and the last value of <paramref name="show"/>.</summary>
    public async Task WaitForAsync(string condition, TimeSpan timeout, string? show = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string? error = null;
            try
            {
                if (await EvaluateAsync($"!!({condition})").ConfigureAwait(false) is JsonValue v && v.GetValue<bool>())
                    return;
            }
            catch (InvalidOperationException ex)
            {
                error = ex.Message;
            }
            if (DateTime.UtcNow > deadline)
            {
                string seen = show is null ? "" : " (" + show + " = " + (await TryEvaluateAsync(show).ConfigureAwait(false)) + ")";
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s in the browser for `{condition}`{seen}{(error is null ? "" : "; " + error)}");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Saves a PNG of the viewport.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result["data"]!.GetValue<string>())).ConfigureAwait(false);
    }

    private async Task<string> TryEvaluateAsync(string expression)
    {
        try
        {
            return (await EvaluateAsync(expression).ConfigureAwait(false))?.ToJsonString() ?? "undefined";
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }

    private async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, _stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _sendGate.Release();
        }
        var answer = await reply.Task.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (answer["error"] is JsonNode error)
            throw new InvalidOperationException($"{method} failed: {error.ToJsonString()}");
        return answer["result"]?.AsObject() ?? new JsonObject();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                message.SetLength(0);
                WebSocketReceiveResult r;
                do
                {
                    r = await _socket.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
                    if (r.MessageType == WebSocketMessageType.Close)
                        return;
                    message.Write(buffer, 0, r.Count);
                }
                while (!r.EndOfMessage);
                var node = JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length))?.AsObject();
                // Events (no id) are not needed: every wait polls the page's state.
                if (node?["id"] is JsonValue idValue && _pending.TryRemove(idValue.GetValue<int>(), out var tcs))
                    tcs.TrySetResult(node);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or JsonException)
        {
            foreach (var p in _pending.Values)
                p.TrySetException(new InvalidOperationException("the DevTools connection closed", ex));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
        _socket.Dispose();
        await ChildProcessCleanup.KillAndDeleteAsync(_process, _profile).ConfigureAwait(false);
        _stop.Dispose();
        _sendGate.Dispose();
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();
}
