using Microsoft.Extensions.Options;

namespace OssOrleans.Storage;

/// <summary>
/// Options of <see cref="S3ObjectStore"/>: an S3-compatible endpoint (Alibaba Cloud OSS, AWS S3, MinIO, s3rver).
/// Credentials are taken from the first source that has them: <see cref="AccessKeyId"/>/<see cref="AccessKeySecret"/>,
/// then the environment variables OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN, then <see cref="CredentialFile"/>.
/// </summary>
public sealed class S3StoreOptions
{
    /// <summary>
    /// The endpoint: a host (<c>oss-cn-beijing-internal.aliyuncs.com</c>, http is assumed), or an http(s) URL
    /// (<c>http://127.0.0.1:9000</c>). OSS-style hosts are mapped to OSS's S3-compatible hosts. Required; no default.
    /// </summary>
    public string Endpoint { get; set; } = "";

    /// <summary>
    /// The signing region. Default null: derived from an OSS endpoint ("cn-beijing"), otherwise "us-east-1".
    /// </summary>
    public string? Region { get; set; }

    /// <summary>
    /// Path-style addressing. Default null: automatic, virtual-hosted for OSS (which rejects path style) and AWS,
    /// path style for everything else (IP addresses, localhost, MinIO, s3rver).
    /// </summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>
    /// A JSON credential file <c>{"AccessKeyId","AccessKeySecret","SecurityToken","Expiration"}</c>, reread when
    /// it changes and before it expires. Default null: not used. Consulted only when neither the static keys
    /// nor the environment variables are set.
    /// </summary>
    public string? CredentialFile { get; set; }

    /// <summary>A static access key id. Default null. Set together with <see cref="AccessKeySecret"/>.</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>A static access key secret. Default null. Never logged.</summary>
    public string? AccessKeySecret { get; set; }

    /// <summary>A static session (STS) token to go with the static keys. Default null. Never logged.</summary>
    public string? SessionToken { get; set; }

    /// <summary>Attempts per request, the first included (1 to 20). Default 4.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The base of the exponential backoff between attempts (full jitter). Default 100 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The cap of the backoff between attempts. Default 2 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The time one attempt may take, reading the body included. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most HTTP connections kept to the endpoint. Default 64.</summary>
    public int MaxConnections { get; set; } = 64;

    /// <summary>
    /// Whether part uploads carry the SHA-256 of their body in the signature, so the server rejects a part changed on the
    /// way. Default null: signed over plain http (an OSS internal endpoint, say), not over https, where TLS already
    /// protects the bytes. False saves a pass over every uploaded byte where the network is trusted.
    /// </summary>
    public bool? SignPayload { get; set; }

    /// <summary>Shows the settings with the secrets masked.</summary>
    public override string ToString()
        => $"S3StoreOptions(Endpoint={Endpoint}, Region={Region ?? "(auto)"}, ForcePathStyle={ForcePathStyle?.ToString() ?? "(auto)"}, "
            + $"CredentialFile={CredentialFile ?? "(none)"}, AccessKeyId={(AccessKeyId is null ? "(none)" : CredentialText.MaskId(AccessKeyId))}, "
            + $"AccessKeySecret={(AccessKeySecret is null ? "(none)" : "***")}, SessionToken={(SessionToken is null ? "(none)" : "***")}, "
            + $"MaxAttempts={MaxAttempts}, BaseDelay={BaseDelay}, MaxDelay={MaxDelay}, RequestTimeout={RequestTimeout}, MaxConnections={MaxConnections}, "
            + $"SignPayload={SignPayload?.ToString() ?? "(auto)"})";
}

/// <summary>Validates <see cref="S3StoreOptions"/>; each failure names the option.</summary>
public sealed class S3StoreOptionsValidator : IValidateOptions<S3StoreOptions>
{
    private const string DefaultPrefix = nameof(S3StoreOptions) + ".";
    private readonly string _optionPrefix;

    /// <param name="optionPrefix">How failures name an option: "S3StoreOptions." by default; a host binding from configuration
    /// passes its section path (for example "Origin:S3:") so the message names the setting the user wrote.</param>
    public S3StoreOptionsValidator(string optionPrefix = DefaultPrefix) => _optionPrefix = optionPrefix;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string p = nameof(S3StoreOptions) + ".";
        var failures = new List<string>();
        try
        {
            OssEndpoint.Resolve(options.Endpoint, options.Region, options.ForcePathStyle);
        }
        catch (ArgumentException ex)
        {
            // ArgumentException.Message ends with " (Parameter 'x')"; the option name is already in the text.
            failures.Add(ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal));
        }
        if (options.MaxAttempts is < 1 or > 20)
        {
            failures.Add($"{p}{nameof(options.MaxAttempts)} must be between 1 and 20 (got {options.MaxAttempts})");
        }
        if (options.BaseDelay < TimeSpan.Zero)
        {
            failures.Add($"{p}{nameof(options.BaseDelay)} must not be negative (got {options.BaseDelay})");
        }
        if (options.MaxDelay < options.BaseDelay)
        {
            failures.Add($"{p}{nameof(options.MaxDelay)} must be at least {nameof(options.BaseDelay)} (got {options.MaxDelay} < {options.BaseDelay})");
        }
        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"{p}{nameof(options.RequestTimeout)} must be more than 0 and at most 1 hour (got {options.RequestTimeout})");
        }
        if (options.MaxConnections < 1)
        {
            failures.Add($"{p}{nameof(options.MaxConnections)} must be at least 1 (got {options.MaxConnections})");
        }
        bool hasId = !string.IsNullOrEmpty(options.AccessKeyId);
        bool hasSecret = !string.IsNullOrEmpty(options.AccessKeySecret);
        if (hasId != hasSecret)
        {
            failures.Add($"{p}{nameof(options.AccessKeyId)} and {p}{nameof(options.AccessKeySecret)} must be set together");
        }
        if (!string.IsNullOrEmpty(options.SessionToken) && !hasId)
        {
            failures.Add($"{p}{nameof(options.SessionToken)} needs {p}{nameof(options.AccessKeyId)} and {p}{nameof(options.AccessKeySecret)}");
        }
        if (options.CredentialFile is not null && string.IsNullOrWhiteSpace(options.CredentialFile))
        {
            failures.Add($"{p}{nameof(options.CredentialFile)} must be a path or null");
        }
        if (failures.Count == 0)
            return ValidateOptionsResult.Success;
        return ValidateOptionsResult.Fail(_optionPrefix == DefaultPrefix ? failures : failures.Select(f => f.Replace(DefaultPrefix, _optionPrefix, StringComparison.Ordinal)));
    }
}
