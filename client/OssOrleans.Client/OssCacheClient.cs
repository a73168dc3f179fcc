using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OssOrleans.Client.Security;

namespace OssOrleans.Client;

/// <summary>
/// The one long-lived, thread-safe entry point of a process into an OssOrleans cluster (like a connection multiplexer):
/// create it once with <see cref="ConnectAsync"/> and share it.
/// </summary>
public sealed partial class OssCacheClient : IAsyncDisposable
{
    private readonly IHost? _host;
    private readonly Channel<(ObjectInfo Info, long Bytes)> _openPrefetch;
    private readonly Task _prefetchLoop;
    private readonly CancellationTokenSource _stopping = new();

    private OssCacheClient(IClusterClient cluster, OssClientOptions options, IHost? host)
    {
        options.Validate();
        Cluster = cluster;
        Options = options;
        _host = host;
        Tenant = ClientCredentials.Resolve(options).Tenant;
        Shards = new ShardFetcher(cluster, options, ClientTls.Resolve(options));
        // Bounded: open-order prefetch is a hint; when many objects are opened at once the oldest hints are kept.
        _openPrefetch = Channel.CreateBounded<(ObjectInfo, long)>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        _prefetchLoop = Task.Run(PrefetchInOpenOrderAsync);
    }

    internal IClusterClient Cluster { get; }

    internal OssClientOptions Options { get; }

    internal ShardFetcher Shards { get; }

    /// <summary>The tenant this client acts as (its access key id, or <c>anonymous</c>): the owner of the uploads, jobs and dataset snapshots it makes.</summary>
    public string Tenant { get; }

    /// <summary>Connects to the cluster through its gateways.</summary>
    public static async Task<OssCacheClient> ConnectAsync(OssClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var endpoints = options.Gateways.Select(ParseEndpoint).ToArray();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(endpoints);
            client.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = options.ClusterId; o.ServiceId = options.ServiceId; });
            client.UseOssCredentials(options);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            host.Dispose();
            throw new InvalidOperationException($"could not connect to the OssOrleans cluster at {string.Join(", ", options.Gateways)}: {ex.Message}", ex);
        }
        return new OssCacheClient(host.Services.GetRequiredService<IClusterClient>(), options, host);
    }

    /// <summary>
    /// Wraps an Orleans client the application already has (for example in a co-hosted service or a test cluster). On a
    /// cluster with tenants, build that client with <see cref="OssClientBuilderExtensions.UseOssCredentials"/> and the same
    /// <paramref name="options"/>, so its calls carry the tenant's proof.
    /// </summary>
    public static OssCacheClient FromClusterClient(IClusterClient cluster, OssClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return new OssCacheClient(cluster, options ?? new OssClientOptions(), host: null);
    }

    /// <summary>Size, ETag and last-modified time of an object, as the cluster knows it (refreshed after the metadata TTL).</summary>
    public Task<ObjectInfo> StatAsync(string uri, CancellationToken cancellationToken = default) =>
        StatAsync(ObjectUri.Parse(uri).RequireObject(), cancellationToken);

    public Task<ObjectInfo> StatAsync(ObjectUri uri, CancellationToken cancellationToken = default) =>
        Cluster.GetGrain<IObjectGrain>(uri.RequireObject().ToGrainKey()).GetInfoAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Opens an object for reading through the cluster: a seekable, read-only stream over one version (the ETag current at
    /// open), fetching up to <see cref="OssClientOptions.ReadAheadShards"/> shards ahead of the reader. The cluster also
    /// starts prefetching the object, in the order objects are opened.
    /// </summary>
    public async Task<Stream> OpenReadAsync(string uri, CancellationToken cancellationToken = default)
    {
        var info = await StatAsync(uri, cancellationToken).ConfigureAwait(false);
        if (Options.OpenPrefetchBytes > 0 && info.Size > 0)
            _openPrefetch.Writer.TryWrite((info, Math.Min(info.Size, Options.OpenPrefetchBytes)));
        return new ShardedReadStream(Shards, info, Options.ReadAheadShards);
    }

    /// <summary>
    /// Reads bytes [offset, offset + buffer.Length) of the object, or fewer when the object ends first; returns the count
    /// read (0 at or past the end). Reads the current version; throws <see cref="ObjectChangedException"/> if it changes meanwhile.
    /// </summary>
    public async Task<int> ReadRangeAsync(string uri, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var info = await StatAsync(uri, cancellationToken).ConfigureAwait(false);
        long end = Math.Min(info.Size, offset + buffer.Length);
        if (offset >= end)
            return 0;
        int first = (int)(offset / info.ShardSize), last = (int)((end - 1) / info.ShardSize);
        await Parallel.ForEachAsync(Enumerable.Range(first, last - first + 1),
            new ParallelOptions { MaxDegreeOfParallelism = Options.ReadAheadShards, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                long shardStart = (long)i * info.ShardSize;
                long from = Math.Max(offset, shardStart), to = Math.Min(end, shardStart + info.ShardSize);
                // Only the bytes asked for, straight into the caller's buffer.
                var target = buffer.Slice((int)(from - offset), (int)(to - from));
                await Shards.FetchSpanAsync(info, i, (int)(from - shardStart), target.Length,
                    (body, c) => body.ReadExactlyAsync(target, c).AsTask(), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return (int)(end - offset);
    }

    /// <summary>Cache counters of every active silo.</summary>
    public Task<IReadOnlyList<SiloCacheStats>> GetClusterStatsAsync(CancellationToken cancellationToken = default) =>
        Cluster.GetGrain<IClusterStatsGrain>(0).GetSilosAsync().WaitAsync(cancellationToken);

    private async Task PrefetchInOpenOrderAsync()
    {
        try
        {
            await foreach (var (info, bytes) in _openPrefetch.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await Cluster.GetGrain<IObjectGrain>(info.Uri.ToGrainKey()).PrefetchAsync(info.ETag, 0, bytes).WaitAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A prefetch is a hint: the reader fetches (and reports) anything it still needs.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _openPrefetch.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _prefetchLoop.ConfigureAwait(false);
        Shards.Dispose();
        if (_host is not null)
        {
            await _host.StopAsync().ConfigureAwait(false);
            _host.Dispose();
        }
        _stopping.Dispose();
    }

    private static IPEndPoint ParseEndpoint(string gateway)
    {
        if (IPEndPoint.TryParse(gateway, out var ep) && ep.Port != 0)
            return ep;
        int colon = gateway.LastIndexOf(':');
        if (colon > 0 && int.TryParse(gateway.AsSpan(colon + 1), out int port) && port is > 0 and < 65536)
        {
            var addresses = Dns.GetHostAddresses(gateway[..colon]);
            var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            if (address is not null)
                return new IPEndPoint(address, port);
        }
        throw new ArgumentException($"OssClientOptions.Gateways: '{gateway}' is not host:port");
    }
}
