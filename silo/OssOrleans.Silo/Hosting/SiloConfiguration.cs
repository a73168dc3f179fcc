using Microsoft.Extensions.Options;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.Silo.Hosting;

/// <summary>The silo's settings, bound and validated once before anything starts.</summary>
internal sealed record SiloSettings(OriginOptions Origin, S3StoreOptions S3, SiloClusterOptions Cluster, HttpEndpointOptions Http, CacheOptions Cache)
{
    public AdminOptions Admin { get; init; } = new();
}

/// <summary>Thrown for configuration that cannot work; the message is one line naming the option.</summary>
internal sealed class SiloConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

internal static class SiloConfiguration
{
    /// <summary>Short command-line flags; every other setting is reachable as <c>--Section:Name=value</c>.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["--origin"] = "Origin:Kind",
        ["--data-dir"] = "Origin:LocalRoot",
        ["--endpoint"] = "Origin:S3:Endpoint",
        ["--cluster-mode"] = "Cluster:Mode",
        ["--redis"] = "Cluster:Redis",
        ["--silo-port"] = "Cluster:SiloPort",
        ["--gateway-port"] = "Cluster:GatewayPort",
        ["--urls"] = "Http:Urls",
        ["--cache-capacity"] = "Cache:CapacityBytes",
        ["--data-plane-url"] = "Cache:DataPlaneUrl",
        ["--admin-token"] = "Admin:Token",
    };

    /// <summary>appsettings.json, then environment variables (plain and OSSORLEANS_-prefixed), then command-line flags.</summary>
    public static void AddSources(IConfigurationBuilder configuration, string[] args)
    {
        configuration.AddEnvironmentVariables("OSSORLEANS_");
        configuration.AddCommandLine(args, new Dictionary<string, string>(SwitchMappings, StringComparer.OrdinalIgnoreCase));
    }

    public static SiloSettings Bind(IConfiguration configuration)
    {
        var origin = Bind<OriginOptions>(configuration, OriginOptions.Section);
        var s3 = Bind<S3StoreOptions>(configuration, OriginOptions.Section + ":S3");
        var cluster = Bind<SiloClusterOptions>(configuration, SiloClusterOptions.Section);
        var http = Bind<HttpEndpointOptions>(configuration, HttpEndpointOptions.Section);
        var cache = Bind<CacheOptions>(configuration, CacheOptions.Section);
        var admin = Bind<AdminOptions>(configuration, AdminOptions.Section);

        Check(new OriginOptionsValidator().Validate(null, origin));
        if (origin.Kind == OriginKind.S3)
            Check(new S3StoreOptionsValidator(OriginOptions.Section + ":S3:").Validate(null, s3));
        Check(new SiloClusterOptionsValidator().Validate(null, cluster));
        Check(new HttpEndpointOptionsValidator().Validate(null, http));
        Check(new CacheOptionsValidator().Validate(null, cache));
        Check(AdminOptionsValidator.Validate(admin, http));
        return new SiloSettings(origin, s3, cluster, http, cache) { Admin = admin };
    }

    private static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the path ("Failed to convert configuration value at 'Cluster:SiloPort' to type 'System.Int32'")
            // and the value, which is never a secret for the typed (non-string) settings where conversion can fail.
            throw new SiloConfigurationException(ex.Message, ex);
        }
    }

    private static void Check(ValidateOptionsResult result, string prefix = "")
    {
        if (result.Failed)
        {
            var first = result.Failures?.FirstOrDefault() ?? result.FailureMessage;
            throw new SiloConfigurationException(first.StartsWith(prefix, StringComparison.Ordinal) ? first : prefix + first);
        }
    }
}
