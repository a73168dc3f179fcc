using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Connections.Security;
using Orleans.Runtime;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.DataPlane;
using OssOrleans.Grains.Grains;
using OssOrleans.Grains.Listing;
using OssOrleans.Grains.Security;
using OssOrleans.Grains.Uploads;

namespace OssOrleans.Grains.Hosting;

public static class OssCacheSiloBuilderExtensions
{
    /// <summary>
    /// Adds the shard cache to a silo: grains, the bounded shard store, the origin and listing concurrency limits and the HTTP data plane.
    /// The origin (<see cref="Storage.IObjectStore"/>) must be registered by the host.
    /// </summary>
    public static ISiloBuilder AddOssCache(this ISiloBuilder silo, Action<CacheOptions>? configure = null)
    {
        var services = silo.Services;
        var options = services.AddOptions<CacheOptions>();
        if (configure is not null)
            options.Configure(configure);
        services.AddSingleton<IValidateOptions<CacheOptions>, CacheOptionsValidator>();
        options.ValidateOnStart();

        services.AddOptions<AuthOptions>();
        services.AddOptions<ClusterTlsOptions>();
        services.TryAddSingleton<TenantRegistry>();
        services.TryAddSingleton<ClusterKeys>();
        services.TryAddSingleton<ClusterTls>();
        services.TryAddSingleton<CapabilityIssuer>();
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<DataPlaneClientFactory>();
        services.TryAddSingleton(new SystemTargetAllowList());
        // Every call into this silo is authenticated and authorized; every call out of it is signed as a silo's.
        silo.AddIncomingGrainCallFilter<AuthorizationFilter>();
        silo.AddOutgoingGrainCallFilter<SiloCallSigner>();

        services.TryAddSingleton<CacheInstruments>();
        services.TryAddSingleton<ShardLoader>();
        services.TryAddSingleton<ShardLocator>();
        services.TryAddSingleton<ShardStore>();
        services.TryAddSingleton<DataPlaneEndpoint>();
        services.TryAddSingleton(sp => new CacheClock(TimeProvider.System));
        services.TryAddSingleton(sp => new OriginGate(sp.GetRequiredService<IOptions<CacheOptions>>().Value.MaxOriginConcurrency));
        services.TryAddSingleton(sp => new ListGate(sp.GetRequiredService<IOptions<CacheOptions>>().Value.MaxListConcurrency));
        services.TryAddSingleton(sp => new ListCacheBudget(sp.GetRequiredService<IOptions<CacheOptions>>().Value.ListCacheMaxEntries));
        services.TryAddSingleton<ListWriteLog>();
        services.TryAddSingleton<ListWriteAnnouncer>();
        services.AddPlacementDirector<SiloKeyPlacement, SiloKeyPlacementDirector>();
        services.TryAddSingleton<PartReceiver>();
        services.TryAddSingleton<PeerFetcher>();
        services.AddSingleton<DataPlaneServer>();
        services.AddHostedService(sp => sp.GetRequiredService<DataPlaneServer>());

        // Activate this silo's stats grain at start-up, so its counters are there from the first request.
        silo.AddStartupTask(static async (sp, ct) =>
        {
            var me = sp.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
            await sp.GetRequiredService<IGrainFactory>().GetGrain<ISiloStatsGrain>(me).GetStatsAsync().ConfigureAwait(false);
        });
        return silo;
    }

    /// <summary>
    /// TLS on the silo's Orleans connections (silo to silo, and the client gateway) with the cluster's certificate: peers
    /// must present a certificate of the cluster's CA, and so must clients when <see cref="ClusterTls.RequireClientCertificate"/>.
    /// Nothing changes when <paramref name="tls"/> is not enabled.
    /// </summary>
    public static ISiloBuilder UseClusterTls(this ISiloBuilder silo, ClusterTls tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        if (!tls.Enabled)
            return silo;
        silo.UseTls(tls.Certificate!, o =>
        {
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.ClientCertificateMode = tls.RequireClientCertificate ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.AllowCertificate;
            // A client without a certificate reaches this only when none is required; any certificate must be the CA's.
            o.RemoteCertificateValidation = (certificate, _, _) => certificate is null ? !tls.RequireClientCertificate : tls.IsTrusted(certificate);
            o.CheckCertificateRevocation = false;
            // Silos reach each other by address; the CA, not the name, is what is trusted.
            o.OnAuthenticateAsClient = (_, auth) => auth.TargetHost = "ossorleans";
        });
        return silo;
    }

    /// <summary>
    /// Binds <see cref="CacheOptions"/>, <see cref="AuthOptions"/> and <see cref="ClusterTlsOptions"/> from the <c>Cache</c>,
    /// <c>Auth</c> and <c>Tls</c> sections of <paramref name="configuration"/>.
    /// </summary>
    public static ISiloBuilder AddOssCache(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<CacheOptions>().Bind(configuration.GetSection(CacheOptions.Section));
        silo.Services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section));
        silo.Services.AddOptions<ClusterTlsOptions>().Bind(configuration.GetSection(ClusterTlsOptions.Section));
        return silo.AddOssCache();
    }
}
