using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Silo;

/// <summary>The README's first command, as a real process: a one-node cluster on the embedded default.</summary>
public sealed class SiloProcessTests
{
    [Fact]
    public async Task SiloExecutable_EmbeddedDefault_SeedsSampleBucketServesHealthAndReadsThroughCluster()
    {
        var work = Directory.CreateTempSubdirectory("oss-silo-");
        try
        {
            await using var silo = await SiloProcess.StartAsync([], work.FullName);
            string text = silo.Output;
            Assert.True(text.Contains($"http://127.0.0.1:{silo.HttpPort}", StringComparison.Ordinal), $"the silo did not print its HTTP address:\n{text}");
            Assert.True(text.Contains($"gateway port {silo.GatewayPort}", StringComparison.Ordinal), $"the silo did not print its gateway port:\n{text}");
            Assert.True(File.Exists(Path.Combine(work.FullName, "data", "sample", "README.txt")), "the sample bucket was not seeded under ./data");

            using var http = new HttpClient();
            var health = await http.GetStringAsync($"http://127.0.0.1:{silo.HttpPort}/healthz");
            Assert.Contains("\"status\":\"ok\"", health, StringComparison.Ordinal);
            Assert.Contains("\"origin\":\"local\"", health, StringComparison.Ordinal);
            Assert.DoesNotContain(work.FullName, health, StringComparison.Ordinal);

            var options = new OssClientOptions();
            options.Gateways.Clear();
            options.Gateways.Add(silo.Gateway);
            await using var client = await OssCacheClient.ConnectAsync(options);
            var expected = await File.ReadAllBytesAsync(Path.Combine(work.FullName, "data", "sample", "models", "tiny", "weights.bin"));
            await using var stream = await client.OpenReadAsync("oss://sample/models/tiny/weights.bin");
            using var ms = new MemoryStream();
            await stream.CopyToAsync(ms);
            Assert.Equal(expected, ms.ToArray());
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
