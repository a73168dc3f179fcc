using System.Globalization;
using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Storage;

public sealed class OssCredentialsTests : IDisposable
{
    private const string Secret = "SECRET-do-not-log-123";
    private const string Token = "TOKEN-do-not-log-456";
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private static Func<string, string?> Env(params (string Name, string Value)[] values)
        => name => values.FirstOrDefault(v => v.Name == name).Value;

    private string WriteFile(string id, string secret, DateTimeOffset? expiration, string? token = null, string name = "creds.json")
    {
        string path = _dir.Combine(name);
        string exp = expiration is { } e ? $",\"Expiration\":\"{e.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\"" : "";
        string tok = token is null ? "" : $",\"SecurityToken\":\"{token}\"";
        File.WriteAllText(path, $"{{\"AccessKeyId\":\"{id}\",\"AccessKeySecret\":\"{secret}\"{tok}{exp}}}");
        return path;
    }

    [Fact]
    public void Resolve_StaticOptions_ReturnsThemWithToken()
    {
        var options = new S3StoreOptions { AccessKeyId = "STATICID", AccessKeySecret = Secret, SessionToken = Token };

        ImmutableCredentials creds = OssCredentialSources.Resolve(options, Env(("OSS_ACCESS_KEY_ID", "ENVID"), ("OSS_ACCESS_KEY_SECRET", "envsecret"))).GetCredentials();

        Assert.Equal("STATICID", creds.AccessKey);
        Assert.Equal(Secret, creds.SecretKey);
        Assert.Equal(Token, creds.Token);
    }

    [Fact]
    public void Resolve_EnvironmentVariables_UsedWhenNoStaticKeys()
    {
        string file = WriteFile("FILEID", "filesecret", null);
        var options = new S3StoreOptions { CredentialFile = file };

        ImmutableCredentials creds = OssCredentialSources.Resolve(options,
            Env(("OSS_ACCESS_KEY_ID", "ENVID"), ("OSS_ACCESS_KEY_SECRET", Secret), ("OSS_SESSION_TOKEN", Token))).GetCredentials();

        Assert.Equal("ENVID", creds.AccessKey);
        Assert.Equal(Secret, creds.SecretKey);
        Assert.Equal(Token, creds.Token);
    }

    [Fact]
    public void Resolve_EnvironmentWithoutToken_HasNoToken()
    {
        ImmutableCredentials creds = OssCredentialSources.Resolve(new S3StoreOptions(),
            Env(("OSS_ACCESS_KEY_ID", "ENVID"), ("OSS_ACCESS_KEY_SECRET", Secret))).GetCredentials();

        Assert.False(creds.UseToken);
    }

    [Fact]
    public void Resolve_OnlyIdInEnvironment_ThrowsNamingTheMissingVariable()
    {
        var ex = Assert.Throws<CredentialsException>(() => OssCredentialSources.Resolve(new S3StoreOptions(), Env(("OSS_ACCESS_KEY_ID", "ENVID"))));
        Assert.Contains("OSS_ACCESS_KEY_SECRET", ex.Message);
    }

    [Fact]
    public void Resolve_CredentialFile_UsedWhenNothingElse()
    {
        string file = WriteFile("FILEID", Secret, _time.GetUtcNow().AddHours(1), Token);

        AWSCredentials credentials = OssCredentialSources.Resolve(new S3StoreOptions { CredentialFile = file }, Env(), _time);
        ImmutableCredentials creds = credentials.GetCredentials();

        Assert.IsType<FileOssCredentials>(credentials);
        Assert.Equal("FILEID", creds.AccessKey);
        Assert.Equal(Secret, creds.SecretKey);
        Assert.Equal(Token, creds.Token);
    }

    [Fact]
    public void Resolve_NoSource_ThrowsNamingEverySourceTried()
    {
        var ex = Assert.Throws<CredentialsException>(() => OssCredentialSources.Resolve(new S3StoreOptions(), Env()));

        Assert.Contains("AccessKeyId", ex.Message);
        Assert.Contains("OSS_ACCESS_KEY_ID", ex.Message);
        Assert.Contains("OSS_ACCESS_KEY_SECRET", ex.Message);
        Assert.Contains("CredentialFile", ex.Message);
    }

    [Fact]
    public void FileCredentials_LessThanFiveMinutesLeft_RereadsTheFile()
    {
        string path = WriteFile("OLDID", "old-secret", _time.GetUtcNow().AddMinutes(10));
        DateTime originalWrite = File.GetLastWriteTimeUtc(path);
        var credentials = new FileOssCredentials(path, _time);

        WriteFile("NEWID", "new-secret", _time.GetUtcNow().AddHours(1));
        File.SetLastWriteTimeUtc(path, originalWrite);

        _time.Advance(TimeSpan.FromMinutes(4)); // 6 minutes left: not near expiry, file time unchanged
        Assert.Equal("OLDID", credentials.GetCredentials().AccessKey);

        _time.Advance(TimeSpan.FromMinutes(2)); // 4 minutes left: reread
        Assert.Equal("NEWID", credentials.GetCredentials().AccessKey);
    }

    [Fact]
    public void FileCredentials_FileRewritten_PickedUpAfterCheckInterval()
    {
        string path = WriteFile("OLDID", "old-secret", expiration: null);
        var credentials = new FileOssCredentials(path, _time);
        DateTime before = File.GetLastWriteTimeUtc(path);

        WriteFile("NEWID", "new-secret", expiration: null);
        File.SetLastWriteTimeUtc(path, before.AddSeconds(10));

        Assert.Equal("OLDID", credentials.GetCredentials().AccessKey); // not looked at again yet
        _time.Advance(FileOssCredentials.DefaultCheckInterval);
        Assert.Equal("NEWID", credentials.GetCredentials().AccessKey);
    }

    [Fact]
    public void FileCredentials_ExpiredAndNotRefreshed_ThrowsNamingFileAndTime()
    {
        DateTimeOffset expiration = _time.GetUtcNow().AddMinutes(10);
        string path = WriteFile("ID1", Secret, expiration);
        var credentials = new FileOssCredentials(path, _time);

        _time.Advance(TimeSpan.FromMinutes(11));
        var ex = Assert.Throws<CredentialsException>(() => credentials.GetCredentials());

        Assert.Contains($"credential file {credentials.Path} expired at {expiration.ToString("O", CultureInfo.InvariantCulture)}", ex.Message);
        Assert.DoesNotContain(Secret, ex.ToString());
    }

    [Fact]
    public void FileCredentials_ExpiredWhenLoaded_Throws()
    {
        string path = WriteFile("ID1", Secret, _time.GetUtcNow().AddMinutes(-1));

        var ex = Assert.Throws<CredentialsException>(() => new FileOssCredentials(path, _time));
        Assert.Contains("expired at", ex.Message);
    }

    [Fact]
    public void FileCredentials_BrokenRewriteWhileStillValid_KeepsCurrentKeys()
    {
        string path = WriteFile("ID1", Secret, _time.GetUtcNow().AddMinutes(10));
        var credentials = new FileOssCredentials(path, _time);

        File.WriteAllText(path, "{\"AccessKeyId\":\"half-writ");
        _time.Advance(TimeSpan.FromMinutes(6)); // 4 minutes left: reread fails, keys still valid

        Assert.Equal("ID1", credentials.GetCredentials().AccessKey);
    }

    [Theory]
    [InlineData("{\"AccessKeyId\":\"ID\",\"AccessKeySecret\":\"" + Secret)]
    [InlineData("[\"" + Secret + "\"]")]
    [InlineData("{\"AccessKeyId\":\"ID\"}")]
    [InlineData("{\"AccessKeyId\":\"ID\",\"AccessKeySecret\":\"" + Secret + "\",\"Expiration\":\"not a time\"}")]
    [InlineData("{\"AccessKeyId\":\"ID\",\"AccessKeySecret\":42}")]
    [InlineData("S" + Secret)]
    public void FileCredentials_MalformedFile_ThrowsNamingFileWithoutSecret(string content)
    {
        string path = _dir.Combine("bad.json");
        File.WriteAllText(path, content);

        var ex = Assert.Throws<CredentialsException>(() => new FileOssCredentials(path, _time));

        Assert.Contains(path, ex.Message);
        Assert.Contains("malformed", ex.Message);
        Assert.DoesNotContain(Secret, ex.ToString());
    }

    [Fact]
    public void FileCredentials_MissingFile_ThrowsNamingFile()
    {
        string path = _dir.Combine("missing.json");

        var ex = Assert.Throws<CredentialsException>(() => new FileOssCredentials(path, _time));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public async Task FileCredentials_GetCredentialsAsync_SameAsSync()
    {
        string path = WriteFile("ID1", Secret, _time.GetUtcNow().AddHours(1));
        var credentials = new FileOssCredentials(path, _time);

        ImmutableCredentials creds = await credentials.GetCredentialsAsync();
        Assert.Equal("ID1", creds.AccessKey);
    }

    [Fact]
    public void Secrets_NeverInToStringOrErrorMessages()
    {
        var options = new S3StoreOptions { Endpoint = "http://127.0.0.1:9000", AccessKeyId = "AKIDEXAMPLE1234", AccessKeySecret = Secret, SessionToken = Token };
        string path = WriteFile("AKIDEXAMPLE1234", Secret, _time.GetUtcNow().AddMinutes(10), Token);
        var fileCredentials = new FileOssCredentials(path, _time);
        AWSCredentials staticCredentials = OssCredentialSources.Resolve(options, Env());
        AWSCredentials envCredentials = OssCredentialSources.Resolve(new S3StoreOptions(), Env(("OSS_ACCESS_KEY_ID", "AKIDEXAMPLE1234"), ("OSS_ACCESS_KEY_SECRET", Secret), ("OSS_SESSION_TOKEN", Token)));
        _time.Advance(TimeSpan.FromHours(1));
        File.WriteAllText(path, $"{{\"AccessKeyId\":\"AKIDEXAMPLE1234\",\"AccessKeySecret\":\"{Secret}\",\"Expiration\":\"2000-01-01T00:00:00Z\"}}");
        var expired = Assert.Throws<CredentialsException>(() => fileCredentials.GetCredentials());

        string[] texts =
        [
            options.ToString(), fileCredentials.ToString(), staticCredentials.ToString()!, envCredentials.ToString()!,
            staticCredentials.GetCredentials().ToString()!, expired.ToString(),
        ];
        foreach (string text in texts)
        {
            Assert.DoesNotContain(Secret, text);
            Assert.DoesNotContain(Token, text);
            Assert.DoesNotContain("AKIDEXAMPLE1234", text);
        }
    }
}
