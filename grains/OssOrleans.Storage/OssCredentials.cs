using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OssOrleans.Storage;

/// <summary>Text helpers that keep secrets out of messages.</summary>
internal static class CredentialText
{
    /// <summary>Shows at most the last 4 characters of an access key id.</summary>
    public static string MaskId(string accessKeyId)
        => accessKeyId.Length <= 8 ? "****" : "****" + accessKeyId[^4..];
}

/// <summary>
/// Finds the credentials of an <see cref="S3ObjectStore"/>, in this order: the static options
/// (<see cref="S3StoreOptions.AccessKeyId"/>/<see cref="S3StoreOptions.AccessKeySecret"/>/<see cref="S3StoreOptions.SessionToken"/>),
/// the environment variables OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN (optional),
/// then the JSON credential file <see cref="S3StoreOptions.CredentialFile"/>.
/// </summary>
internal static class OssCredentialSources
{
    public const string AccessKeyIdVariable = "OSS_ACCESS_KEY_ID";
    public const string AccessKeySecretVariable = "OSS_ACCESS_KEY_SECRET";
    public const string SessionTokenVariable = "OSS_SESSION_TOKEN";

    /// <summary>Resolves the credentials; throws <see cref="CredentialsException"/> naming the sources tried when there are none.</summary>
    /// <param name="options">The store options.</param>
    /// <param name="getEnvironmentVariable">Reads an environment variable (a seam for tests).</param>
    /// <param name="time">The clock for the credential file's expiry.</param>
    /// <param name="logger">Logs credential file reload problems.</param>
    public static AWSCredentials Resolve(S3StoreOptions options, Func<string, string?>? getEnvironmentVariable = null, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;

        bool hasId = !string.IsNullOrEmpty(options.AccessKeyId);
        bool hasSecret = !string.IsNullOrEmpty(options.AccessKeySecret);
        if (hasId && hasSecret)
        {
            return new StaticOssCredentials("options", options.AccessKeyId!, options.AccessKeySecret!, NullIfEmpty(options.SessionToken));
        }
        if (hasId != hasSecret)
        {
            throw new CredentialsException(
                $"{nameof(S3StoreOptions)}.{nameof(S3StoreOptions.AccessKeyId)} and {nameof(S3StoreOptions.AccessKeySecret)} must be set together");
        }

        string? envId = NullIfEmpty(getEnvironmentVariable(AccessKeyIdVariable));
        string? envSecret = NullIfEmpty(getEnvironmentVariable(AccessKeySecretVariable));
        if (envId is not null && envSecret is not null)
        {
            return new StaticOssCredentials("environment", envId, envSecret, NullIfEmpty(getEnvironmentVariable(SessionTokenVariable)));
        }
        if (envId is not null || envSecret is not null)
        {
            string missing = envId is null ? AccessKeyIdVariable : AccessKeySecretVariable;
            throw new CredentialsException($"environment variable {missing} is not set, although {(envId is null ? AccessKeySecretVariable : AccessKeyIdVariable)} is");
        }

        if (!string.IsNullOrWhiteSpace(options.CredentialFile))
        {
            return new FileOssCredentials(options.CredentialFile, time ?? TimeProvider.System, logger);
        }

        throw new CredentialsException(
            $"no credentials found; tried {nameof(S3StoreOptions)}.{nameof(S3StoreOptions.AccessKeyId)}/{nameof(S3StoreOptions.AccessKeySecret)} (not set), "
            + $"environment variables {AccessKeyIdVariable}/{AccessKeySecretVariable} (not set) and "
            + $"{nameof(S3StoreOptions)}.{nameof(S3StoreOptions.CredentialFile)} (not set)");
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>Fixed credentials from options or the environment.</summary>
internal sealed class StaticOssCredentials : AWSCredentials
{
    private readonly ImmutableCredentials _credentials;

    public StaticOssCredentials(string source, string accessKeyId, string accessKeySecret, string? sessionToken)
    {
        Source = source;
        _credentials = new ImmutableCredentials(accessKeyId, accessKeySecret, sessionToken);
    }

    /// <summary>Where these came from ("options" or "environment").</summary>
    public string Source { get; }

    public override ImmutableCredentials GetCredentials() => _credentials;

    public override Task<ImmutableCredentials> GetCredentialsAsync() => Task.FromResult(_credentials);

    public override string ToString()
        => $"StaticOssCredentials(source={Source}, accessKeyId={CredentialText.MaskId(_credentials.AccessKey)}, sessionToken={(_credentials.UseToken ? "yes" : "no")})";
}

/// <summary>
/// Credentials from a JSON file <c>{"AccessKeyId","AccessKeySecret","SecurityToken","Expiration"}</c> (Expiration
/// is ISO-8601 and optional), as written by STS refreshers. The SDK asks for credentials on every request, so a
/// refreshed file is picked up without restarting. The file is reread when its last-write time changes (checked at
/// most every <see cref="CheckInterval"/>) and, while less than <see cref="RefreshBefore"/> of validity is left, at
/// most every <see cref="CheckInterval"/>. A file that cannot be read while the current keys are still valid keeps
/// them (a refresher may be halfway through writing); once they have expired, requests fail with
/// <see cref="CredentialsException"/>.
/// </summary>
internal sealed partial class FileOssCredentials : AWSCredentials
{
    public static readonly TimeSpan DefaultRefreshBefore = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private Loaded _current;
    private DateTimeOffset _lastCheck;

    /// <summary>Loads the file now; throws <see cref="CredentialsException"/> when it is missing, malformed or expired.</summary>
    public FileOssCredentials(string path, TimeProvider time, ILogger? logger = null, TimeSpan? refreshBefore = null, TimeSpan? checkInterval = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        RefreshBefore = refreshBefore ?? DefaultRefreshBefore;
        CheckInterval = checkInterval ?? DefaultCheckInterval;
        _lastCheck = time.GetUtcNow();
        _current = Load(Path);
        ThrowIfExpired(_current, _lastCheck);
    }

    /// <summary>The credential file.</summary>
    public string Path { get; }

    /// <summary>How long before expiry the file is reread.</summary>
    public TimeSpan RefreshBefore { get; }

    /// <summary>The least time between two looks at the file.</summary>
    public TimeSpan CheckInterval { get; }

    public override ImmutableCredentials GetCredentials()
    {
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            bool expired = _current.Expiration is { } expiration && expiration <= now;
            bool nearExpiry = _current.Expiration is { } e && e - now <= RefreshBefore;
            bool checkDue = now - _lastCheck >= CheckInterval;
            if (expired || (checkDue && (nearExpiry || FileChanged())))
            {
                _lastCheck = now;
                Reload(now);
            }
            ThrowIfExpired(_current, now);
            return _current.Credentials;
        }
    }

    public override Task<ImmutableCredentials> GetCredentialsAsync() => Task.FromResult(GetCredentials());

    public override string ToString()
        => $"FileOssCredentials(path={Path}, accessKeyId={CredentialText.MaskId(_current.Credentials.AccessKey)}, expiration={_current.Expiration?.ToString("O", CultureInfo.InvariantCulture) ?? "none"})";

    private bool FileChanged() => GetLastWrite(Path) != _current.LastWrite;

    private void Reload(DateTimeOffset now)
    {
        try
        {
            _current = Load(Path);
        }
        catch (CredentialsException ex) when (_current.Expiration is not { } e || e > now)
        {
            // Still valid: keep them, and look again after CheckInterval.
            LogReloadFailed(_logger, Path, ex.Message);
        }
    }

    private void ThrowIfExpired(Loaded loaded, DateTimeOffset now)
    {
        if (loaded.Expiration is { } expiration && expiration <= now)
        {
            throw new CredentialsException($"credential file {Path} expired at {expiration.ToString("O", CultureInfo.InvariantCulture)}");
        }
    }

    private static DateTime GetLastWrite(string path) => File.GetLastWriteTimeUtc(path);

    /// <summary>Reads and parses the file. Messages name the file and the field, never a value.</summary>
    private static Loaded Load(string path)
    {
        DateTime lastWrite = GetLastWrite(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CredentialsException($"credential file {path} could not be read ({ex.GetType().Name})", ex);
        }

        string? id = null, secret = null, token = null, expirationText = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CredentialsException($"credential file {path} is malformed: the top level is not a JSON object");
            }
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    throw new CredentialsException($"credential file {path} is malformed: {property.Name} is not a string");
                }
                string? value = property.Value.GetString();
                switch (property.Name.ToLowerInvariant())
                {
                    case "accesskeyid": id = value; break;
                    case "accesskeysecret": secret = value; break;
                    case "securitytoken": token = value; break;
                    case "expiration": expirationText = value; break;
                }
            }
        }
        catch (JsonException ex)
        {
            // The parser's message can quote a character of the file, so only its position is kept, and no inner exception.
            throw new CredentialsException($"credential file {path} is malformed: not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})");
        }

        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret))
        {
            throw new CredentialsException($"credential file {path} is malformed: AccessKeyId and AccessKeySecret are required");
        }
        DateTimeOffset? expiration = null;
        if (!string.IsNullOrEmpty(expirationText))
        {
            if (!DateTimeOffset.TryParse(expirationText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset parsed))
            {
                throw new CredentialsException($"credential file {path} is malformed: Expiration is not an ISO-8601 time");
            }
            expiration = parsed;
        }
        return new Loaded(new ImmutableCredentials(id, secret, string.IsNullOrEmpty(token) ? null : token), expiration, lastWrite);
    }

    [LoggerMessage(EventId = 1050, Level = LogLevel.Warning,
        Message = "Could not reload credential file {Path}; keeping the current credentials, which have not expired: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string reason);

    private sealed record Loaded(ImmutableCredentials Credentials, DateTimeOffset? Expiration, DateTime LastWrite);
}
