using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Orleans.Dashboard;
using OssOrleans.Gateway;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;
using OssOrleans.Silo.Admin;
using OssOrleans.Storage;

namespace OssOrleans.Silo.Hosting;

/// <summary>Builds and runs the silo executable: Orleans, the HTTP endpoint and the origin, from one <see cref="SiloSettings"/>.</summary>
internal static partial class SiloApp
{
    /// <summary>Exit code for configuration that cannot work (after printing one line naming the option).</summary>
    public const int ConfigurationErrorExitCode = 2;

    /// <summary>Exit code when the silo could not start with valid configuration (a port already taken, say).</summary>
    public const int StartFailureExitCode = 1;

    private static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return nl < 0 ? message : message[..nl];
    }

    /// <summary>Printed once everything listens; scripts and tests wait for it.</summary>
    public const string ReadyLine = "OssOrleans silo ready.";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        SiloConfiguration.AddSources(builder.Configuration, args);
        configure?.Invoke(builder);

        var settings = SiloConfiguration.Bind(builder.Configuration);
        builder.Services.AddSingleton(settings);
        // What validation loaded is what the silo uses: secrets and certificates are read once.
        builder.Services.AddSingleton(settings.Tenants);
        builder.Services.AddSingleton(settings.Tls);
        builder.WebHost.UseUrls(settings.Http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (settings.Tls.Enabled)
            builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = settings.Tls.Certificate));
        builder.Services.AddSingleton<IObjectStore>(sp => CreateOrigin(settings, sp));

        builder.UseOrleans(silo =>
        {
            silo.AddOssCache(builder.Configuration);
            silo.AddOssS3Gateway(builder.Configuration);
            silo.UseClusterTls(settings.Tls);
            var c = settings.Cluster;
            // Failure detection (ProbeTimeout, NumMissedProbesLimit, ...) is Orleans' own; defaults unless set here.
            silo.Services.AddOptions<Orleans.Configuration.ClusterMembershipOptions>().Bind(builder.Configuration.GetSection(SiloClusterOptions.Section + ":Membership"));
            switch (c.Mode)
            {
                case ClusterMode.Localhost:
                    silo.UseLocalhostClustering(c.SiloPort, c.GatewayPort, primarySiloEndpoint: null, serviceId: c.ServiceId, clusterId: c.ClusterId);
                    break;
                case ClusterMode.Redis:
                    silo.UseRedisClustering(c.Redis);
                    silo.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = c.ClusterId; o.ServiceId = c.ServiceId; });
                    // A cluster on one machine (advertised on loopback) listens on loopback only.
                    silo.ConfigureEndpoints(IPAddress.Parse(c.AdvertisedAddress), c.SiloPort, c.GatewayPort,
                        listenOnAnyHostAddress: !TrustValidator.IsLoopbackAddress(c.AdvertisedAddress));
                    break;
                case ClusterMode.Kubernetes:
                    // Membership still lives in Redis; Kubernetes hosting takes cluster id, service id and the pod IP from the
                    // pod's environment (ORLEANS_CLUSTER_ID, ORLEANS_SERVICE_ID, POD_IP...) and deletes pods of dead silos.
                    silo.UseRedisClustering(c.Redis);
                    silo.ConfigureEndpoints(c.SiloPort, c.GatewayPort, listenOnAnyHostAddress: true);
                    silo.UseKubernetesHosting();
                    break;
            }
            if (settings.Admin.Enabled)
                silo.AddDashboard();
        });

        var app = builder.Build();
        app.MapGet("/healthz", (SiloSettings s, IObjectStore origin) => Results.Json(new
        {
            status = "ok",
            cluster = s.Cluster.ClusterId,
            mode = s.Cluster.Mode.ToString(),
            // The kind only, as the admin API says it: an endpoint or a folder is for the operator, and /healthz answers anyone.
            origin = origin.Name.Split(':', 2)[0],
        }));
        if (settings.Admin.Enabled)
            AdminApi.Map(app, settings);
        return app;
    }

    /// <summary>Runs until Ctrl+C or <paramref name="cancellationToken"/>. Returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (SiloConfigurationException ex)
        {
            await stderr.WriteLineAsync($"ossorleans-silo: invalid configuration: {ex.Message}").ConfigureAwait(false);
            return ConfigurationErrorExitCode;
        }

        await using (app.ConfigureAwait(false))
        {
            var settings = app.Services.GetRequiredService<SiloSettings>();
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OssOrleans.Silo");
            IObjectStore origin;
            try
            {
                origin = app.Services.GetRequiredService<IObjectStore>();
                if (settings.Origin.Kind == OriginKind.Local && settings.Origin.SeedSample
                    && await SampleBucket.SeedIfMissingAsync(origin, cancellationToken).ConfigureAwait(false))
                {
                    LogSeeded(logger, SampleBucket.Name, origin.Name);
                }
            }
            catch (Exception ex) when (ex is ObjectStoreException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"ossorleans-silo: origin unusable: {ex.Message}").ConfigureAwait(false);
                return ConfigurationErrorExitCode;
            }

            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A port taken, a certificate the TLS stack refuses...: one line, not a stack trace.
                await stderr.WriteLineAsync($"ossorleans-silo: could not start: {FirstLine(ex.GetBaseException().Message)}").ConfigureAwait(false);
                return StartFailureExitCode;
            }
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var c = settings.Cluster;
            await stdout.WriteLineAsync($"OssOrleans silo started: cluster '{c.ClusterId}' ({c.Mode})").ConfigureAwait(false);
            string dataPlane = await app.Services.GetRequiredService<DataPlaneEndpoint>().UrlAsync.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            await stdout.WriteLineAsync($"  http (health, admin): {string.Join(", ", addresses)}").ConfigureAwait(false);
            await stdout.WriteLineAsync($"  data plane: {dataPlane}").ConfigureAwait(false);
            if (settings.Gateway.Enabled)
            {
                var s3 = await app.Services.GetRequiredService<GatewayEndpoint>().UrlsAsync.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
                await stdout.WriteLineAsync($"  S3 gateway: {string.Join(", ", s3)}").ConfigureAwait(false);
            }
            await stdout.WriteLineAsync($"  silo port {c.SiloPort}, client gateway port {c.GatewayPort}").ConfigureAwait(false);
            await stdout.WriteLineAsync($"  origin: {origin.Name}").ConfigureAwait(false);
            await stdout.WriteLineAsync(settings.Tenants.IsAnonymous
                ? "  access: anonymous (no tenants; every listener is on loopback)"
                : $"  access: {settings.Tenants.Tenants.Count} tenant(s); TLS {(settings.Tls.Enabled ? "on" : "off")}").ConfigureAwait(false);
            await stdout.WriteLineAsync($"{ReadyLine} Press Ctrl+C to stop.").ConfigureAwait(false);
            await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);

            try
            {
                await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return 0;
        }
    }

    private static IObjectStore CreateOrigin(SiloSettings settings, IServiceProvider services) => settings.Origin.Kind switch
    {
        OriginKind.Local => new LocalDirectoryObjectStore(Path.GetFullPath(settings.Origin.LocalRoot, Environment.CurrentDirectory)),
        OriginKind.S3 => new S3ObjectStore(settings.S3, services.GetRequiredService<ILogger<S3ObjectStore>>(), services.GetService<TimeProvider>() ?? TimeProvider.System),
        _ => throw new SiloConfigurationException($"{OriginOptions.Section}:Kind: unsupported value {settings.Origin.Kind}"),
    };

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Seeded sample bucket '{Bucket}' into {Origin}")]
    private static partial void LogSeeded(ILogger logger, string bucket, string origin);
}
