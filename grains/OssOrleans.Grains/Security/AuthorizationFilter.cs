using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OssOrleans.Grains.Security;

/// <summary>
/// The gate in front of every grain of this silo. A call signed by a silo (<see cref="SiloCallSigner"/>) goes through as
/// trusted. Any other call is a client's: it must carry a tenant's proof (<see cref="CallProof"/>) made within the clock
/// window for exactly this call target, unless the cluster is anonymous, and it must be one the tenant's grants allow
/// (<see cref="ClientCallPolicy"/>). Only then does the grain run, with the tenant in <see cref="CallerContext"/>.
/// </summary>
internal sealed partial class AuthorizationFilter(
    TenantRegistry tenants,
    ClusterKeys keys,
    AuditLog audit,
    SystemTargetAllowList systemTargets,
    IOptions<AuthOptions> options,
    ILogger<AuthorizationFilter> logger) : IIncomingGrainCallFilter
{
    private readonly TimeSpan _window = options.Value.ClockSkew;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var method = context.InterfaceMethod;
        string interfaceName = method.DeclaringType!.FullName!;
        string target = context.TargetId.ToString();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        if (RequestContext.Get(SiloCallSigner.RequestContextKey) is string siloSignature)
        {
            if (!SiloCallSigner.Verify(keys, siloSignature, now, _window, interfaceName, method.Name, target))
            {
                LogRefused(logger, "(unverified silo signature)", interfaceName, method.Name, "a silo signature that does not verify");
                throw new OssAccessDeniedException($"{method.DeclaringType.Name}.{method.Name}: the call claims to come from a silo but its signature does not verify");
            }
            CallerContext.Tenant = null;
            MarkUsed(context);
            await context.Invoke().ConfigureAwait(false);
            return;
        }
        if (ClientCallPolicy.IsRuntimeLocal(interfaceName) || (GrainTypePrefix.IsSystemTarget(context.TargetId) && systemTargets.Allows(interfaceName)))
        {
            // The runtime's own ticks (never from the wire), and the few Orleans calls every client makes to connect
            // (the cluster's type manifest) or to cancel its own calls: no tenant data either way.
            CallerContext.Tenant = null;
            await context.Invoke().ConfigureAwait(false);
            return;
        }

        ClientAccess access;
        Tenant tenant;
        try
        {
            tenant = Authenticate(RequestContext.Get(CallProof.RequestContextKey) as string, now, interfaceName, method.Name, target);
            try
            {
                access = ClientCallPolicy.Authorize(tenant, context);
            }
            catch (OssAccessDeniedException ex)
            {
                LogRefused(logger, tenant.Id, interfaceName, method.Name, ex.Message);
                audit.Write(tenant.Id, method.Name, target, 0, "denied");
                throw;
            }
        }
        catch (OssAccessDeniedException)
        {
            DropIfUnused(context);
            throw;
        }
        CallerContext.Tenant = tenant;
        MarkUsed(context);
        try
        {
            await context.Invoke().ConfigureAwait(false);
            audit.Write(tenant.Id, access.Verb, access.Uri, 0, "ok");
        }
        catch (Exception ex)
        {
            audit.Write(tenant.Id, access.Verb, access.Uri, 0, ex.GetType().Name);
            throw;
        }
    }

    // A refused call still activated its target (filters run inside the activation). One that no allowed call has used is
    // let go at once, so refused calls leave nothing behind; one that served allowed calls stays (a refused call must not
    // be a way to deactivate other people's grains).
    private sealed class UsedMarker;

    private static void MarkUsed(IIncomingGrainCallContext context)
    {
        if (context.TargetContext is { } target && target.GetComponent<UsedMarker>() is null)
            target.SetComponent(new UsedMarker());
    }

    private static void DropIfUnused(IIncomingGrainCallContext context)
    {
        if (context.TargetContext is { } target && target.GetComponent<UsedMarker>() is null && !GrainTypePrefix.IsSystemTarget(context.TargetId))
            target.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "only refused calls reached it"));
    }

    private Tenant Authenticate(string? proof, long now, string interfaceName, string methodName, string target)
    {
        if (tenants.IsAnonymous)
            return Tenant.Anonymous;
        if (proof is null)
            throw Refused("(none)", interfaceName, methodName, "this cluster requires credentials: give the client an access key (OssClientOptions.AccessKeyId and AccessKeySecret, or OSSORLEANS_ACCESS_KEY_ID and OSSORLEANS_ACCESS_KEY_SECRET)");
        if (!CallProof.TryParse(proof, out string keyId, out long at, out byte[] mac))
            throw Refused("(malformed)", interfaceName, methodName, "malformed credentials");
        if (!tenants.TryGet(keyId, out var tenant))
            throw Refused(keyId, interfaceName, methodName, $"unknown access key id '{keyId}'");
        if (Math.Abs(now - at) > _window.TotalSeconds)
            throw Refused(keyId, interfaceName, methodName, $"the request was signed {now - at} s from the silo's time (allowed: {_window.TotalSeconds:0} s either way); check the client's clock");
        if (!CallProof.Verify(tenant.CallKey, at, interfaceName, methodName, target, mac))
            throw Refused(keyId, interfaceName, methodName, $"the signature does not match for access key id '{keyId}' (wrong secret?)");
        return tenant;
    }

    private OssAccessDeniedException Refused(string who, string interfaceName, string methodName, string why)
    {
        LogRefused(logger, who, interfaceName, methodName, why);
        audit.Write(who, methodName, interfaceName, 0, "unauthenticated");
        return new OssAccessDeniedException(why);
    }

    [LoggerMessage(EventId = 2800, Level = LogLevel.Warning, Message = "Refused {Interface}.{Method} of {Caller}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string caller, string @interface, string method, string reason);
}
