using System.Net.Http.Headers;
using System.Text.Json;

namespace OssOrleans.IntegrationTests.Operations;

/// <summary>GETs admin API JSON from a silo, with an optional bearer token.</summary>
internal sealed class AdminHttp(int port, string? token = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public async Task<HttpResponseMessage> SendAsync(string path, string? bearer)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await _http.SendAsync(request);
    }

    public void Dispose() => _http.Dispose();
}

internal static class Poll
{
    /// <summary>Polls <paramref name="probe"/> until it returns a value <paramref name="done"/> accepts; the timeout message names the last value.</summary>
    public static async Task<T> UntilAsync<T>(string what, Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "(nothing yet)";
        while (true)
        {
            try
            {
                var value = await probe();
                if (done(value))
                    return value;
                last = value?.ToString() ?? "null";
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                last = $"{ex.GetType().Name}: {ex.Message}";
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}; last seen: {last}");
            await Task.Delay(200);
        }
    }
}
