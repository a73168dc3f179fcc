using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.DataPlane;
using OssOrleans.Grains.Grains;
using OssOrleans.Grains.Listing;
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

        services.TryAddSingleton<CacheInstruments>();
        services.TryAddSingleton<ShardStore>();
        services.TryAddSingleton<DataPlaneEndpoint>();
        services.TryAddSingleton(sp => new CacheClock(TimeProvider.System));
        services.TryAddSingleton(sp => new OriginGate(sp.GetRequiredService<IOptions<CacheOptions>>().Value.MaxOriginConcurrency));
        services.TryAddSingleton(sp => new ListGate(sp.GetRequiredService<IOptions<CacheOptions>>().Value.MaxListConcurrency));
        services.TryAddSingleton(sp => new ListCacheBudget(sp.GetRequiredService<IOptions<CacheOptions>>().Value.ListCacheMaxEntries));
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

    /// <summary>Binds <see cref="CacheOptions"/> from the <c>Cache</c> section of <paramref name="configuration"/>.</summary>
    public static ISiloBuilder AddOssCache(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<CacheOptions>().Bind(configuration.GetSection(CacheOptions.Section));
        return silo.AddOssCache();
    }
}
