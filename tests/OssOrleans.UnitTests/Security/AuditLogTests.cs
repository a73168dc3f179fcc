using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Security;

namespace OssOrleans.UnitTests.Security;

public sealed class AuditLogTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Write_AppendsOneJsonLinePerRequest_ToAnOwnerOnlyFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ossorleans-audit-{Guid.NewGuid():N}.log");
        try
        {
            await using (var audit = new AuditLog(Options.Create(new AuthOptions { AuditPath = path }), NullLogger<AuditLog>.Instance))
            {
                Assert.True(audit.Enabled);
                audit.Write("team-a", "read", "oss://data/team-a/x \"quoted\"", 4096, "ok");
                audit.Write("team-b", "list", "oss://data/team-b/", 0, "denied");
            }
            var lines = await File.ReadAllLinesAsync(path);
            Assert.Equal(2, lines.Length);
            using var first = JsonDocument.Parse(lines[0]);
            Assert.Equal("team-a", first.RootElement.GetProperty("tenant").GetString());
            Assert.Equal("oss://data/team-a/x \"quoted\"", first.RootElement.GetProperty("uri").GetString());
            Assert.Equal(4096, first.RootElement.GetProperty("bytes").GetInt64());
            Assert.Equal("denied", JsonDocument.Parse(lines[1]).RootElement.GetProperty("result").GetString());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task NoPath_WritesNothing()
    {
        await using var audit = new AuditLog(Options.Create(new AuthOptions()), NullLogger<AuditLog>.Instance);
        Assert.False(audit.Enabled);
        audit.Write("t", "read", "oss://x/y", 1, "ok");
    }
}
