using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Operations;

/// <summary>The dashboard page in real headless Chromium against a real silo process.</summary>
[Collection(OpsSiloCollection.Name)]
public sealed class DashboardBrowserTests(OpsSiloFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Dashboard_InChromium_SignsInShowsSiloCountUpdatesAfterReadAndLooksUpAnObject()
    {
        Skip.If(HeadlessChromium.FindExecutable() is null, "chromium is not installed (tests/install-test-deps.sh installs Debian's chromium as root; .ci/run does)");
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync($"http://127.0.0.1:{fixture.Silo.HttpPort}/dashboard?interval=300");

        // The API answers 401 until the token is given, so the page asks for it.
        await browser.WaitForAsync("getComputedStyle(document.getElementById('login')).display === 'flex'", Wait);
        await browser.EvaluateAsync($"document.getElementById('token').value = '{OpsSiloFixture.Token}'; document.getElementById('login-form').requestSubmit(); true");
        await browser.WaitForAsync("document.getElementById('silo-count').textContent === '1'", Wait, "document.getElementById('silo-count').textContent");

        long before = long.Parse((await browser.EvaluateAsync("document.body.dataset.lookups"))!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        await using (var s = await fixture.Client.OpenReadAsync("oss://sample/models/tiny/weights.bin"))
            await s.CopyToAsync(Stream.Null);
        await using (var s = await fixture.Client.OpenReadAsync("oss://sample/models/tiny/weights.bin"))
            await s.CopyToAsync(Stream.Null);
        await browser.WaitForAsync($"Number(document.body.dataset.lookups) > {before}", Wait, "document.body.dataset.lookups");
        await browser.WaitForAsync("document.querySelectorAll('#silos tbody tr').length === 1 && document.querySelector('#silos .bar > span') !== null", Wait);

        await browser.EvaluateAsync("document.getElementById('lookup-uri').value = 'oss://sample/models/tiny/weights.bin'; document.getElementById('lookup-form').requestSubmit(); true");
        await browser.WaitForAsync($"document.getElementById('lookup-result').dataset.size === '{4 << 20}'", Wait, "document.getElementById('lookup-result').textContent");
        string lookup = (await browser.EvaluateAsync("document.getElementById('lookup-result').textContent"))!.GetValue<string>();
        Assert.Contains("1 cached", lookup, StringComparison.Ordinal);

        // Let the chart gather a few points, then keep the picture. The README's copy (silo/dashboard.png) is refreshed
        // only when asked (OSSORLEANS_UPDATE_SCREENSHOT=1), so a test run leaves the checkout unchanged.
        string polls = (await browser.EvaluateAsync("document.body.dataset.polls"))!.GetValue<string>();
        await browser.WaitForAsync($"Number(document.body.dataset.polls) >= {polls} + 3", Wait);
        string shot = Environment.GetEnvironmentVariable("OSSORLEANS_UPDATE_SCREENSHOT") == "1"
            ? Path.Combine(RepoPaths.Root, "silo", "dashboard.png")
            : Path.Combine(Path.GetTempPath(), $"ossorleans-dashboard-{Environment.ProcessId}.png");
        await browser.ScreenshotAsync(shot);
        Assert.True(new FileInfo(shot).Length > 10_000, $"the screenshot {shot} is nearly empty");
    }
}
