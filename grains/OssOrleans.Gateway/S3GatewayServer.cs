using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Listing;
using OssOrleans.Grains.Security;

namespace OssOrleans.Gateway;

/// <summary>
/// The S3 gateway's own Kestrel server inside the silo (like the data plane, its own small web host, so it runs the same
/// in the silo executable and in in-process test clusters). Every request goes to <see cref="S3Router"/>.
/// </summary>
internal sealed class S3GatewayServer(
    S3Router router,
    GatewayEndpoint endpoint,
    ListCursorCache cursors,
    ClusterTls tls,
    TenantRegistry tenants,
    IOptions<GatewayOptions> options,
    ILogger<S3GatewayServer> logger) : IHostedService, IAsyncDisposable
{
    // Longest request line: a 1024-byte key escaped three bytes a character, and a presigned query (about 600 bytes).
    private const int MaxRequestLine = 16 * 1024;

    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled)
            return;
        try
        {
            string[] urls = o.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (urls.Any(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) && !tls.Enabled)
                throw new InvalidOperationException($"{GatewayOptions.Section}:Urls: https needs the cluster's certificate ({ClusterTlsOptions.Section}:CertificateFile)");
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls(urls);
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                // Shards are written straight from their buffers; more response buffering would only add a copy.
                k.Limits.MaxResponseBufferSize = 1 << 20;
                // A client must not hold connections or upload slots by going slowly.
                k.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 64 * 1024, gracePeriod: TimeSpan.FromSeconds(10));
                k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
                k.Limits.MaxRequestLineSize = MaxRequestLine;
                // Bodies are allowed per operation (BodyReader), up to the operation's own limit; nothing else reads one.
                k.Limits.MaxRequestBodySize = 64 * 1024;
                k.Limits.MaxConcurrentConnections = 8192;
                if (tls.Enabled)
                    k.ConfigureHttpsDefaults(h => h.ServerCertificate = tls.Certificate);
            });
            var app = builder.Build();
            app.Run(router.HandleAsync);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            _app = app;
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
            endpoint.Set(bound);
            GatewayLog.Listening(logger, string.Join(", ", bound), tenants.IsAnonymous ? "anonymous: no tenants, any or no signature" : $"{tenants.Tenants.Count} tenant(s), SigV4 required");
        }
        catch (Exception ex)
        {
            endpoint.Fail(ex);
            throw;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        await cursors.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync().ConfigureAwait(false);
    }
}
