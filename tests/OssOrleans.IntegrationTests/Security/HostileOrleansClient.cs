using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Connections.Security;
using OssOrleans.Grains.Security;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>What a grain call is made to, as a proof or a silo signature binds it.</summary>
public sealed record CallTarget(string Interface, string Method, string GrainId);

/// <summary>The request context entries a hostile client puts on one call (whatever it likes).</summary>
public delegate IEnumerable<KeyValuePair<string, object>> Forge(CallTarget target);

/// <summary>
/// A plain Orleans client, not OssOrleans': no signer of its own, no checks. It holds a certificate of the cluster's CA
/// (an insider: any client machine has one), reaches every gateway, may call any grain interface (internal ones
/// included) with any arguments, and puts whatever <see cref="Forge"/> it is given into each call's request context:
/// no proof, a proof made with the wrong secret, for another target or another time, a forged silo signature.
/// </summary>
public sealed class HostileOrleansClient : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly ForgingFilter _filter;

    private HostileOrleansClient(IHost host, ForgingFilter filter)
    {
        _host = host;
        _filter = filter;
    }

    public IGrainFactory Grains => _host.Services.GetRequiredService<IClusterClient>();

    public static Task<HostileOrleansClient> ConnectAsync(SecurityClusterFixture cluster, string certificateFile, string keyFile) =>
        ConnectAsync(cluster.Gateways, cluster.ClusterId, X509Certificate2.CreateFromPemFile(certificateFile, keyFile));

    /// <summary>Connects with <paramref name="certificate"/> (null: none) and trusts whatever the gateway presents.</summary>
    public static async Task<HostileOrleansClient> ConnectAsync(IEnumerable<string> gateways, string clusterId, X509Certificate2? certificate,
        CancellationToken cancellationToken = default)
    {
        var filter = new ForgingFilter();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering([.. gateways.Select(System.Net.IPEndPoint.Parse)]);
            client.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = "ossorleans"; });
            client.AddOutgoingGrainCallFilter(filter);
            void Configure(TlsOptions o)
            {
                o.RemoteCertificateValidation = (_, _, _) => true;
                o.CheckCertificateRevocation = false;
                o.OnAuthenticateAsClient = (_, auth) => auth.TargetHost = "ossorleans";
            }
            if (certificate is null)
                client.UseTls(Configure);
            else
                client.UseTls(certificate, Configure);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new HostileOrleansClient(host, filter);
    }

    /// <summary>Runs <paramref name="call"/>; every grain call it makes carries what <paramref name="forge"/> gives.</summary>
    public async Task<T> CallAsync<T>(Forge forge, Func<IGrainFactory, Task<T>> call)
    {
        var previous = _filter.Current.Value;
        _filter.Current.Value = forge;
        try
        {
            return await call(Grains);
        }
        finally
        {
            _filter.Current.Value = previous;
        }
    }

    public Task CallAsync(Forge forge, Func<IGrainFactory, Task> call) =>
        CallAsync(forge, async g => { await call(g); return true; });

    /// <summary>Calls signed as a tenant would sign them, with <paramref name="secret"/> (right or wrong).</summary>
    public Caller As(string accessKeyId, string secret) => new(this, Forges.Proof(accessKeyId, secret));

    public Caller With(Forge forge) => new(this, forge);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or Orleans.Runtime.OrleansException)
        {
            // A client of a cluster that is going away.
        }
        _host.Dispose();
    }

    /// <summary>A hostile client bound to one way of forging its calls.</summary>
    public sealed class Caller(HostileOrleansClient client, Forge forge)
    {
        public Task<T> CallAsync<T>(Func<IGrainFactory, Task<T>> call) => client.CallAsync(forge, call);

        public Task CallAsync(Func<IGrainFactory, Task> call) => client.CallAsync(forge, call);
    }

    private sealed class ForgingFilter : IOutgoingGrainCallFilter
    {
        public AsyncLocal<Forge?> Current { get; } = new();

        // Async so the entries stay in this call's flow.
        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (Current.Value is { } forge)
            {
                var method = context.InterfaceMethod;
                foreach (var (key, value) in forge(new CallTarget(method.DeclaringType!.FullName!, method.Name, context.TargetId.ToString())))
                    RequestContext.Set(key, value);
            }
            await context.Invoke();
        }
    }
}

/// <summary>Ways to fill a call's request context, from honest to forged.</summary>
public static class Forges
{
    /// <summary>Nothing at all: a client that does not authenticate.</summary>
    public static Forge Nothing { get; } = _ => [];

    /// <summary>
    /// A proof as <see cref="CallProof"/> makes it, with <paramref name="secret"/>, made at <paramref name="unixSeconds"/>
    /// (default now) for the target <paramref name="signFor"/> says (default: the call's own).
    /// </summary>
    public static Forge Proof(string accessKeyId, string secret, Func<long>? unixSeconds = null, Func<CallTarget, CallTarget>? signFor = null)
    {
        var key = CallProof.DeriveKey(secret);
        return target =>
        {
            var t = signFor?.Invoke(target) ?? target;
            long at = unixSeconds?.Invoke() ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            return [new(CallProof.RequestContextKey, CallProof.Create(accessKeyId, key, at, t.Interface, t.Method, t.GrainId))];
        };
    }

    /// <summary>One fixed entry, whatever the call (a proof captured elsewhere, garbage, a value of the wrong type).</summary>
    public static Forge Fixed(string key, object value) => _ => [new(key, value)];

    /// <summary>A silo's signature of the call, made as silos make it but with <paramref name="clusterSecret"/> (a guess, or the real one).</summary>
    public static Forge SiloSignature(string clusterSecret, Func<long>? unixSeconds = null)
    {
        var keys = new ClusterKeys(clusterSecret);
        return target =>
        [
            new(SiloCallSigner.RequestContextKey,
                SiloCallSigner.Sign(keys, unixSeconds?.Invoke() ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(), target.Interface, target.Method, target.GrainId)),
        ];
    }

    /// <summary>The entries of several forges on the same call.</summary>
    public static Forge Both(Forge first, Forge second) => target => [.. first(target), .. second(target)];
}
