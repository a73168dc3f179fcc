using Microsoft.Extensions.Options;

namespace OssOrleans.Gateway.Hosting;

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    // PartReceiver holds a part whole in memory; it takes at most this.
    private const int PartLimit = 1 << 30;

    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        const string s = GatewayOptions.Section;
        if (!o.Enabled)
            return ValidateOptionsResult.Success;
        var urls = o.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
            return ValidateOptionsResult.Fail($"{s}:Urls: at least one http(s) URL is required (or {s}:Enabled=false)");
        foreach (string url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
                return ValidateOptionsResult.Fail($"{s}:Urls: '{url}' is not an http(s) URL");
        }
        foreach (string domain in o.BaseDomains)
        {
            if (string.IsNullOrWhiteSpace(domain) || domain.Contains('/') || domain.Contains(':') || domain.StartsWith('.'))
                return ValidateOptionsResult.Fail($"{s}:BaseDomains: '{domain}' is not a host name (no scheme, port or path)");
        }
        if (string.IsNullOrWhiteSpace(o.Region) || !o.Region.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            return ValidateOptionsResult.Fail($"{s}:Region: '{o.Region}' is not a region name");
        if (o.MaxClockSkew <= TimeSpan.Zero)
            return ValidateOptionsResult.Fail($"{s}:MaxClockSkew: must be positive (got {o.MaxClockSkew})");
        if (o.SinglePutLimit is < 0 or > PartLimit)
            return ValidateOptionsResult.Fail($"{s}:SinglePutLimit: must be between 0 and {PartLimit} (got {o.SinglePutLimit})");
        if (o.WritePartSize is < 5 << 20 or > PartLimit)
            return ValidateOptionsResult.Fail($"{s}:WritePartSize: must be between 5 MiB and 1 GiB (got {o.WritePartSize})");
        if (o.MaxPartSize is < 5 << 20 or > PartLimit)
            return ValidateOptionsResult.Fail($"{s}:MaxPartSize: must be between 5 MiB and 1 GiB (got {o.MaxPartSize})");
        if (o.MaxObjectSize < 1)
            return ValidateOptionsResult.Fail($"{s}:MaxObjectSize: must be positive (got {o.MaxObjectSize})");
        if (o.BodyTimeout <= TimeSpan.Zero)
            return ValidateOptionsResult.Fail($"{s}:BodyTimeout: must be positive (got {o.BodyTimeout})");
        if (o.ReadAheadShards < 1)
            return ValidateOptionsResult.Fail($"{s}:ReadAheadShards: must be at least 1 (got {o.ReadAheadShards})");
        if (o.ClusterReadAheadShards < 0)
            return ValidateOptionsResult.Fail($"{s}:ClusterReadAheadShards: must not be negative (got {o.ClusterReadAheadShards})");
        if (o.RemoteReadBytes is < 64 * 1024 or > 64 << 20)
            return ValidateOptionsResult.Fail($"{s}:RemoteReadBytes: must be between 64 KiB and 64 MiB (got {o.RemoteReadBytes})");
        if (o.RemoteReadAhead < 1)
            return ValidateOptionsResult.Fail($"{s}:RemoteReadAhead: must be at least 1 (got {o.RemoteReadAhead})");
        if (o.ListCursors < 0)
            return ValidateOptionsResult.Fail($"{s}:ListCursors: must not be negative (got {o.ListCursors})");
        if (o.ListCursorIdle <= TimeSpan.Zero)
            return ValidateOptionsResult.Fail($"{s}:ListCursorIdle: must be positive (got {o.ListCursorIdle})");
        return ValidateOptionsResult.Success;
    }
}
