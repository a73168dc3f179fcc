using System.Security.Cryptography;
using System.Text;
using Orleans.Dashboard;
using Orleans.Runtime;
using OssOrleans.Grains.Security;
using OssOrleans.Silo.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.Silo.Admin;

/// <summary>
/// The admin HTTP API (JSON under <c>/admin/api</c>), the dashboard page (<c>/dashboard</c>) and the Orleans Dashboard
/// (<c>/orleans-dashboard</c>). Every answer is built from grain calls; none carries configuration, so no secret can leak.
/// </summary>
internal static partial class AdminApi
{
    public const string ApiPrefix = "/admin/api";
    public const string PagePath = "/dashboard";
    public const string OrleansDashboardPrefix = "/orleans-dashboard";

    /// <summary>The cookie the dashboard page sets from the token the user typed, so the Orleans Dashboard's own requests carry it.</summary>
    public const string TokenCookie = "ossorleans_admin_token";

    // One slow or dying silo must not hang the whole answer: each per-silo call gets this long.
    private static readonly TimeSpan SiloCallTimeout = TimeSpan.FromSeconds(5);

    public static void Map(WebApplication app, SiloSettings settings)
    {
        // Open only on an anonymous loopback silo without a token (the validator allows nothing else).
        if (settings.Admin.Token.Length > 0 || !settings.Tenants.IsAnonymous)
        {
            var expected = settings.Admin.Token.Length > 0 ? SHA256.HashData(Encoding.UTF8.GetBytes(settings.Admin.Token)) : null;
            app.Use((context, next) => IsProtected(context.Request.Path) && !IsAdmin(context.Request, expected, settings.Tenants)
                ? Unauthorized(context)
                : next(context));
        }

        var api = app.MapGroup(ApiPrefix);
        api.MapGet("/cluster", (IGrainFactory grains, SiloSettings s, IObjectStore origin, CancellationToken ct) => GetClusterAsync(grains, s, origin, ct));
        api.MapGet("/objects", (IGrainFactory grains, string? prefix, int? limit, CancellationToken ct) => GetObjectsAsync(grains, prefix, limit, ct));
        api.MapGet("/object", (IGrainFactory grains, string? uri, CancellationToken ct) => GetObjectAsync(grains, uri, ct));
        api.MapGet("/jobs", (IGrainFactory grains, ILoggerFactory logs, CancellationToken ct) => GetJobsAsync(grains, logs, ct));

        app.MapGet(PagePath, () => Results.Stream(DashboardPage(), "text/html; charset=utf-8"));
        app.MapOrleansDashboard(OrleansDashboardPrefix);
    }

    private static Stream DashboardPage() =>
        typeof(AdminApi).Assembly.GetManifestResourceStream("OssOrleans.Silo.dashboard.html")
        ?? throw new InvalidOperationException("the dashboard page is not embedded in the silo assembly");

    private static bool IsProtected(PathString path) =>
        path.StartsWithSegments(ApiPrefix, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(OrleansDashboardPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The admin token (<c>Authorization: Bearer {token}</c>), or an admin tenant's access key id and secret
    /// (<c>Authorization: Basic</c>, as <c>curl -u key:secret</c> sends them, or <c>Bearer key:secret</c>); the dashboard
    /// page sends what the user typed in a cookie. Compared as hashes in constant time, so neither a secret's bytes nor its
    /// length leak through timing.
    /// </summary>
    private static bool IsAdmin(HttpRequest request, byte[]? token, TenantRegistry tenants)
    {
        string? given = null;
        string? header = request.Headers.Authorization;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = header[7..].Trim();
        else if (header is not null && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                given = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            }
            catch (FormatException)
            {
                return false;
            }
        }
        else if (request.Cookies.TryGetValue(TokenCookie, out var cookie))
            given = Uri.UnescapeDataString(cookie);
        if (string.IsNullOrEmpty(given))
            return false;
        if (token is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), token))
            return true;
        int colon = given.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !tenants.TryGet(given[..colon], out var tenant) || !tenant.IsClusterAdmin || tenant.Secret is null)
            return false;
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given[(colon + 1)..])), SHA256.HashData(Encoding.UTF8.GetBytes(tenant.Secret)));
    }

    private static Task Unauthorized(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"ossorleans-admin\"";
        return context.Response.WriteAsJsonAsync(new ErrorJson("an admin token (Admin:Token) or an admin tenant's key:secret is required"));
    }

    private static async Task<IResult> GetClusterAsync(IGrainFactory grains, SiloSettings settings, IObjectStore origin, CancellationToken ct)
    {
        var members = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).WaitAsync(ct).ConfigureAwait(false);
        var silos = await Task.WhenAll(members.OrderBy(m => m.SiloAddress.ToParsableString(), StringComparer.Ordinal).Select(async m =>
        {
            string address = m.SiloAddress.ToParsableString();
            SiloCacheStats? stats = null;
            string? error = null;
            if (m.Status == SiloStatus.Active)
            {
                try
                {
                    stats = await grains.GetGrain<ISiloStatsGrain>(address).GetStatsAsync().WaitAsync(SiloCallTimeout, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    error = ex.GetType().Name;
                }
            }
            return new SiloJson(address, m.SiloName, m.HostName, m.Status.ToString(), m.StartTime, stats is null ? null : Counters.From(stats), stats?.DataPlaneUrl, error);
        })).ConfigureAwait(false);

        var live = silos.Where(s => s.Cache is not null).Select(s => s.Cache!).ToList();
        var totals = live.Aggregate(Counters.Zero, (a, b) => a + b);
        return Results.Json(new ClusterJson(
            settings.Cluster.ClusterId, settings.Cluster.ServiceId, settings.Cluster.Mode.ToString(), OriginKindOf(origin),
            silos.Count(s => s.Status == nameof(SiloStatus.Active)), silos, totals, DateTimeOffset.UtcNow));
    }

    // Only the kind: an endpoint may carry a bucket or host an operator considers private.
    private static string OriginKindOf(IObjectStore origin) => origin.Name.Split(':', 2)[0];

    private static async Task<IResult> GetObjectsAsync(IGrainFactory grains, string? prefix, int? limit, CancellationToken ct)
    {
        if (!ObjectUri.TryParse(prefix, out var uri))
            return Results.BadRequest(new ErrorJson("prefix: expected oss://bucket/prefix"));
        int max = Math.Clamp(limit ?? 1000, 1, 10_000);
        var (shards, truncated, errors) = await CachedShardsAsync(grains, uri.Bucket, uri.Key, max, ct).ConfigureAwait(false);
        var objects = shards
            .GroupBy(x => (x.Shard.Key, x.Shard.ETag))
            .OrderBy(g => g.Key.Key, StringComparer.Ordinal)
            .Select(g => ToObject(uri.Bucket, g.Key.Key, g.Key.ETag, g))
            .ToList();
        return Results.Json(new ObjectsJson(uri.ToString(), objects, truncated, errors));
    }

    private static async Task<IResult> GetObjectAsync(IGrainFactory grains, string? uri, CancellationToken ct)
    {
        ObjectUri parsed;
        try
        {
            parsed = ObjectUri.Parse(uri ?? "").RequireObject();
        }
        catch (ArgumentException ex)
        {
            return Results.BadRequest(new ErrorJson("uri: " + ex.Message));
        }
        ObjectInfo info;
        try
        {
            info = await grains.GetGrain<IObjectGrain>(parsed.ToGrainKey()).GetInfoAsync().WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OssObjectNotFoundException)
        {
            return Results.NotFound(new ErrorJson($"{parsed} does not exist at the origin"));
        }
        catch (OriginFailedException ex)
        {
            return Results.Json(new ErrorJson(ex.Message), statusCode: StatusCodes.Status502BadGateway);
        }
        var (shards, _, errors) = await CachedShardsAsync(grains, parsed.Bucket, parsed.Key, 10_000, ct).ConfigureAwait(false);
        var resident = shards.Where(s => s.Shard.Key == parsed.Key && s.Shard.ETag == info.ETag).ToList();
        var cached = ToObject(parsed.Bucket, parsed.Key, info.ETag, resident);
        return Results.Json(new ObjectLookupJson(parsed.ToString(), info.Size, info.ETag, info.LastModified,
            info.Crc64?.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), info.ShardSize, info.ShardCount, cached, errors));
    }

    private static async Task<IResult> GetJobsAsync(IGrainFactory grains, ILoggerFactory logs, CancellationToken ct)
    {
        try
        {
            var jobs = await grains.GetGrain<IWarmJobRegistryGrain>(0).ListAsync().WaitAsync(SiloCallTimeout, ct).ConfigureAwait(false);
            return Results.Json(new JobsJson([.. jobs.Select(JobJson.From)]));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // No warm-job registry in this build (or it is unreachable): show no jobs rather than fail the dashboard.
            LogJobsUnavailable(logs.CreateLogger("OssOrleans.Silo.Admin"), ex.GetType().Name);
            return Results.Json(new JobsJson([]));
        }
    }

    private static async Task<(List<(string Silo, CachedShard Shard)> Shards, bool Truncated, List<string> Errors)> CachedShardsAsync(
        IGrainFactory grains, string bucket, string keyPrefix, int limit, CancellationToken ct)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(ct).ConfigureAwait(false);
        var pages = await Task.WhenAll(hosts.Keys.Select(async h =>
        {
            string address = h.ToParsableString();
            try
            {
                return (address, page: await grains.GetGrain<ISiloStatsGrain>(address).GetCachedShardsAsync(bucket, keyPrefix, limit).WaitAsync(SiloCallTimeout, ct).ConfigureAwait(false), error: (string?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return (address, page: (CachedShardPage?)null, error: $"{address}: {ex.GetType().Name}");
            }
        })).ConfigureAwait(false);
        var all = new List<(string, CachedShard)>();
        bool truncated = false;
        foreach (var (address, page, _) in pages)
        {
            if (page is null) continue;
            truncated |= page.Truncated;
            all.AddRange(page.Shards.Select(s => (address, s)));
        }
        return (all, truncated, [.. pages.Where(p => p.error is not null).Select(p => p.error!)]);
    }

    private static CachedObjectJson ToObject(string bucket, string key, string etag, IEnumerable<(string Silo, CachedShard Shard)> shards)
    {
        var list = shards.OrderBy(s => s.Shard.Index).ToList();
        return new CachedObjectJson(
            new ObjectUri(bucket, key).ToString(), etag,
            list.Count > 0 ? list[0].Shard.ShardSize : 0,
            list.Sum(s => (long)s.Shard.Bytes),
            [.. list.Select(s => new ShardJson(s.Shard.Index, s.Shard.Bytes, s.Silo))],
            list.GroupBy(s => s.Silo).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal));
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "Warm job registry unavailable ({ErrorType}); reporting no jobs")]
    private static partial void LogJobsUnavailable(ILogger logger, string errorType);
}
