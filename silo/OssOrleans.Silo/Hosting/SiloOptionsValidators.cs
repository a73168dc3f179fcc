using Microsoft.Extensions.Options;

namespace OssOrleans.Silo.Hosting;

internal sealed class OriginOptionsValidator : IValidateOptions<OriginOptions>
{
    public ValidateOptionsResult Validate(string? name, OriginOptions options)
    {
        if (!Enum.IsDefined(options.Kind))
            return ValidateOptionsResult.Fail($"{OriginOptions.Section}:Kind: must be Local or S3");
        if (options.Kind == OriginKind.Local && string.IsNullOrWhiteSpace(options.LocalRoot))
            return ValidateOptionsResult.Fail($"{OriginOptions.Section}:LocalRoot: must name a folder when Origin:Kind is Local");
        return ValidateOptionsResult.Success;
    }
}

internal sealed class SiloClusterOptionsValidator : IValidateOptions<SiloClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloClusterOptions options)
    {
        const string s = SiloClusterOptions.Section;
        if (!Enum.IsDefined(options.Mode))
            return ValidateOptionsResult.Fail($"{s}:Mode: must be Localhost, Redis or Kubernetes");
        if (string.IsNullOrWhiteSpace(options.ClusterId))
            return ValidateOptionsResult.Fail($"{s}:ClusterId: must not be empty");
        if (string.IsNullOrWhiteSpace(options.ServiceId))
            return ValidateOptionsResult.Fail($"{s}:ServiceId: must not be empty");
        if (options.SiloPort is < 1 or > 65535)
            return ValidateOptionsResult.Fail($"{s}:SiloPort: must be between 1 and 65535 (got {options.SiloPort})");
        if (options.GatewayPort is < 1 or > 65535)
            return ValidateOptionsResult.Fail($"{s}:GatewayPort: must be between 1 and 65535 (got {options.GatewayPort})");
        if (options.SiloPort == options.GatewayPort)
            return ValidateOptionsResult.Fail($"{s}:GatewayPort: must differ from {s}:SiloPort ({options.SiloPort})");
        if (options.Mode != ClusterMode.Localhost && string.IsNullOrWhiteSpace(options.Redis))
            return ValidateOptionsResult.Fail($"{s}:Redis: a Redis connection string is required when {s}:Mode is {options.Mode}");
        if (!System.Net.IPAddress.TryParse(options.AdvertisedAddress, out _))
            return ValidateOptionsResult.Fail($"{s}:AdvertisedAddress: '{options.AdvertisedAddress}' is not an IP address");
        return ValidateOptionsResult.Success;
    }
}

internal sealed class HttpEndpointOptionsValidator : IValidateOptions<HttpEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpEndpointOptions options)
    {
        var urls = (options.Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
            return ValidateOptionsResult.Fail($"{HttpEndpointOptions.Section}:Urls: at least one URL is required");
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
                return ValidateOptionsResult.Fail($"{HttpEndpointOptions.Section}:Urls: '{url}' is not an http(s) URL");
        }
        return ValidateOptionsResult.Success;
    }
}

/// <summary>Whether a listen URL stays on this machine.</summary>
internal static class ListenUrls
{
    // Kestrel's wildcards ("+", "*", "0.0.0.0", "[::]") and any named host other than localhost listen beyond loopback.
    internal static bool IsLoopback(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        string rest = scheme < 0 ? url : url[(scheme + 3)..];
        int end = rest.IndexOfAny(['/', '?']);
        if (end >= 0) rest = rest[..end];
        string host = rest.StartsWith('[') ? rest[1..Math.Max(1, rest.IndexOf(']'))] : (rest.LastIndexOf(':') is int c and > 0 ? rest[..c] : rest);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return true;
        return System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip);
    }
}
