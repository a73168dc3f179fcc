using OssOrleans.Grains.Grains;

namespace OssOrleans.Grains.Security;

/// <summary>What a client call touches, for its audit line.</summary>
internal readonly record struct ClientAccess(string Verb, string Uri);

/// <summary>
/// The public surface of the cluster: every grain method a client may call, and what its tenant needs for it. Anything
/// not named here (seeding shards, invalidating metadata, discarding shards, progress reports, Orleans' own management
/// grains) is for silos only. Checked before the call reaches the grain, so a refused call costs no cache lookup and no
/// origin request. Grains that serve several objects in one call (dataset runs) or filter what they return (listings)
/// check the rest themselves with <see cref="CallerContext"/>.
/// </summary>
internal static class ClientCallPolicy
{
    // Orleans turns an IAsyncEnumerable grain method into calls on this extension of the grain (start, next, dispose).
    private const string AsyncEnumerableExtension = "Orleans.Runtime.IAsyncEnumerableGrainExtension";

    /// <summary>
    /// A grain timer's tick: the runtime hands it to the grain (or system target) as a message of its own process, which
    /// no client can address (it names the timer object itself).
    /// </summary>
    public static bool IsRuntimeLocal(string interfaceName) => interfaceName == "Orleans.Runtime.IGrainTimerInvoker";

    /// <summary>Authorizes the call or throws <see cref="OssAccessDeniedException"/> saying why.</summary>
    public static ClientAccess Authorize(Tenant tenant, IIncomingGrainCallContext context)
    {
        var method = context.InterfaceMethod;
        var type = method.DeclaringType!;
        string name = method.Name;
        string key;
        try
        {
            key = context.TargetId.Key.ToString()!;
            return Authorize(tenant, type, name, key, context);
        }
        catch (FormatException ex)
        {
            throw new OssAccessDeniedException($"{type.Name}.{name}: malformed grain key: {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            throw new OssAccessDeniedException($"{type.Name}.{name}: malformed request: {ex.Message}");
        }
    }

    private static ClientAccess Authorize(Tenant tenant, Type type, string method, string key, IIncomingGrainCallContext context)
    {
        if (type == typeof(IObjectGrain) && method is nameof(IObjectGrain.GetInfoAsync) or nameof(IObjectGrain.PrefetchAsync))
            return Need(tenant, AccessVerbs.Read, ObjectKeys.FromGrainKey(key));
        if (type == typeof(IShardGrain) && method == nameof(IShardGrain.EnsureLoadedAsync))
            return Need(tenant, AccessVerbs.Read, ShardId.FromGrainKey(key).Object);
        if (type == typeof(IDatasetGrain) || type == typeof(IDatasetRunGrain))
            return Owner(tenant, key, "dataset");
        if (type == typeof(IUploadGrain))
        {
            var access = Owner(tenant, key, "upload");
            return method == nameof(IUploadGrain.StartAsync)
                ? Need(tenant, AccessVerbs.Write, (ObjectUri)context.Request.GetArgument(0)!)
                : access;
        }
        if (type == typeof(IWarmJobGrain))
        {
            var access = Owner(tenant, key, "warm");
            if (method != nameof(IWarmJobGrain.StartAsync))
                return access;
            var prefix = (ObjectUri)context.Request.GetArgument(0)!;
            Need(tenant, AccessVerbs.List, prefix);
            return Need(tenant, AccessVerbs.Read, prefix);
        }
        // There is one registry (key 0) and one cluster view (key 0); calls to other keys would only make activations.
        if (type == typeof(IWarmJobRegistryGrain) && key == "0")
            return new ClientAccess("list", "warm-jobs");
        if ((type == typeof(IClusterStatsGrain) && key == "0") || type == typeof(ISiloStatsGrain))
        {
            if (!tenant.IsClusterAdmin)
                throw new OssAccessDeniedException($"{tenant.Id} may not read cluster statistics: they need the grant 'admin oss://*'");
            return new ClientAccess("admin", "cluster");
        }
        if (type.FullName == AsyncEnumerableExtension && context.TargetContext?.GrainInstance is ListPartitionGrain)
        {
            var partition = ListPartitionKey.FromGrainKey(key);
            if (tenant.VisibilityOf(partition.Bucket, partition.Prefix) == ListVisibility.None)
                throw new OssAccessDeniedException($"{tenant.Id} may not list oss://{partition.Bucket}/{partition.Prefix}");
            return new ClientAccess("list", $"oss://{partition.Bucket}/{partition.Prefix}");
        }
        throw new OssAccessDeniedException($"{type.Name}.{method} is internal to the cluster; clients may not call it");
    }

    private static ClientAccess Need(Tenant tenant, AccessVerbs verb, ObjectUri uri)
    {
        if (!tenant.Allows(verb, uri.Bucket, uri.Key))
            throw new OssAccessDeniedException($"{tenant.Id} may not {Verb(verb)} {uri}");
        return new ClientAccess(Verb(verb), uri.ToString());
    }

    // Grains keyed by their owner's tenant (TenantKeys): only the owner may call them.
    private static ClientAccess Owner(Tenant tenant, string key, string what)
    {
        if (!TenantKeys.TryGetOwner(key, out string owner) || owner != tenant.Id)
            throw new OssAccessDeniedException($"{tenant.Id} may not use {what} '{key}': it belongs to another tenant");
        return new ClientAccess(what, key);
    }

    private static string Verb(AccessVerbs verb) => verb.ToString().ToLowerInvariant();
}
