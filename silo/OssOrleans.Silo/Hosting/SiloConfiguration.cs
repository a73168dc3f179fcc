using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;

namespace OssOrleans.Silo.Hosting;

/// <summary>
/// The silo's settings, bound and validated once before anything starts, with what the trust settings load (tenants,
/// certificates), so a file that cannot be read or a secret that is too short stops the silo before it listens.
/// </summary>
internal sealed record SiloSettings(OriginOptions Origin, S3StoreOptions S3, SiloClusterOptions Cluster, HttpEndpointOptions Http, CacheOptions Cache)
{
    public AdminOptions Admin { get; init; } = new();

    public AuthOptions Auth { get; init; } = new();

    public TenantRegistry Tenants { get; init; } = new(new AuthOptions());

    public ClusterTls Tls { get; init; } = new(new ClusterTlsOptions());

    public GatewayOptions Gateway { get; init; } = new();
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
        ["--s3-urls"] = "Gateway:Urls",
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
        var auth = Bind<AuthOptions>(configuration, AuthOptions.Section);
        var tlsOptions = Bind<ClusterTlsOptions>(configuration, ClusterTlsOptions.Section);
        var gateway = Bind<GatewayOptions>(configuration, GatewayOptions.Section);

        Check(new OriginOptionsValidator().Validate(null, origin));
        if (origin.Kind == OriginKind.S3)
            Check(new S3StoreOptionsValidator(OriginOptions.Section + ":S3:").Validate(null, s3));
        Check(new SiloClusterOptionsValidator().Validate(null, cluster));
        Check(new HttpEndpointOptionsValidator().Validate(null, http));
        Check(new CacheOptionsValidator().Validate(null, cache));
        Check(new GatewayOptionsValidator().Validate(null, gateway));
        var tenants = Load(() => new TenantRegistry(auth));
        var tls = Load(() => new ClusterTls(tlsOptions));
        Load(() => ClusterKeys.Resolve(auth));
        Check(TrustValidator.Validate(cluster, http, cache, auth, tenants, tls, gateway));
        return new SiloSettings(origin, s3, cluster, http, cache) { Admin = admin, Auth = auth, Tenants = tenants, Tls = tls, Gateway = gateway };
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

    // Trust settings read files (secrets, certificates); their errors are one line naming the setting, never a secret.
    private static T Load<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (InvalidOperationException ex)
        {
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
