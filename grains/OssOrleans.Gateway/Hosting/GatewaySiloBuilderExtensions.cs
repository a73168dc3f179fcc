using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Listing;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Gateway.Reading;
using OssOrleans.Gateway.Writing;

namespace OssOrleans.Gateway.Hosting;

public static class GatewaySiloBuilderExtensions
{
    /// <summary>
    /// Serves the S3 API from this silo (<see cref="GatewayOptions"/>), over the cache that <c>AddOssCache</c> adds (call
    /// that too): reads from the cluster's shards, listings from its list partitions, writes through its upload path, with
    /// the silo's tenants as S3 access keys.
    /// </summary>
    public static ISiloBuilder AddOssS3Gateway(this ISiloBuilder silo, Action<GatewayOptions>? configure = null)
    {
        var services = silo.Services;
        var options = services.AddOptions<GatewayOptions>();
        if (configure is not null)
            options.Configure(configure);
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        options.ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GatewayEndpoint>();
        services.TryAddSingleton<GatewayInstruments>();
        services.TryAddSingleton<GatewayAuthenticator>();
        services.TryAddSingleton(sp => new S3AddressResolver(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.BaseDomains));
        services.TryAddSingleton<BodyReader>();
        services.TryAddSingleton<BucketHandler>();
        services.TryAddSingleton<ObjectStreamer>();
        services.TryAddSingleton<ObjectReadHandler>();
        services.TryAddSingleton<ListPager>();
        services.TryAddSingleton<ListCursorCache>();
        services.TryAddSingleton<ListingHandler>();
        services.TryAddSingleton<WriteNotices>();
        services.TryAddSingleton<WriteConditions>();
        services.TryAddSingleton<StagedPartLedger>();
        services.TryAddSingleton<ObjectWriter>();
        services.TryAddSingleton<ObjectWriteHandler>();
        services.TryAddSingleton<MultipartHandler>();
        services.TryAddSingleton<S3Router>();
        services.AddSingleton<S3GatewayServer>();
        services.AddHostedService(sp => sp.GetRequiredService<S3GatewayServer>());
        return silo;
    }

    /// <summary>The same, with <see cref="GatewayOptions"/> bound from the <c>Gateway</c> section of <paramref name="configuration"/>.</summary>
    public static ISiloBuilder AddOssS3Gateway(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.Section));
        return silo.AddOssS3Gateway();
    }
}
