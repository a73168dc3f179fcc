namespace OssOrleans.Grains.Security;

/// <summary>
/// Who made the grain call being served, as the silo's <see cref="AuthorizationFilter"/> established it: a tenant (a client's
/// call), or null (another silo, or this silo's own code). Flows with the call's async context into the grain method and
/// what it starts, never over the wire: a downstream silo learns the caller only from a signature it checks itself.
/// </summary>
internal static class CallerContext
{
    private static readonly AsyncLocal<Tenant?> Current = new();

    /// <summary>The calling client's tenant, or null when a silo (or this silo's own code) made the call.</summary>
    public static Tenant? Tenant
    {
        get => Current.Value;
        set => Current.Value = value;
    }

    /// <summary>The tenant that data-plane tokens and sessions are issued to: the calling client's, or, for silos, nobody's.</summary>
    public static Tenant TenantOrSilo => Current.Value ?? Security.Tenant.Silo;
}
