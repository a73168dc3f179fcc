using System.Globalization;

namespace OssOrleans.Grains.Security;

/// <summary>
/// Signs every grain call this silo makes (from grains, and from the silo's own code: the admin API, the data plane) with
/// the cluster's key, so the silo that receives it knows another silo made it. A client cannot make this signature, and
/// the gateway does not vouch for who sent a message, so this signature is the only thing that tells silos from clients.
/// The client's own proof, which flowed into this call with the request context, is dropped: it is for its first hop only.
/// </summary>
internal sealed class SiloCallSigner(ClusterKeys keys) : IOutgoingGrainCallFilter
{
    /// <summary>The request context entry of a silo's signature: <c>{unixSeconds}:{mac}</c>.</summary>
    public const string RequestContextKey = "oss-silo";

    // Async so that the request context changes stay in this call's flow and do not leak into the caller's.
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var method = context.InterfaceMethod;
        RequestContext.Set(RequestContextKey, Sign(keys, now, method.DeclaringType!.FullName!, method.Name, context.TargetId.ToString()));
        RequestContext.Remove(CallProof.RequestContextKey);
        await context.Invoke().ConfigureAwait(false);
    }

    public static string Sign(ClusterKeys keys, long unixSeconds, string interfaceName, string methodName, string target) =>
        unixSeconds.ToString(CultureInfo.InvariantCulture) + ":" + ClusterKeys.Mac(keys.SiloCall, Text(unixSeconds, interfaceName, methodName, target));

    /// <summary>True when <paramref name="signature"/> is a silo's for this call, made within <paramref name="window"/> of now.</summary>
    public static bool Verify(ClusterKeys keys, string signature, long now, TimeSpan window, string interfaceName, string methodName, string target)
    {
        int colon = signature.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(signature.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long at)
            || Math.Abs(now - at) > window.TotalSeconds)
            return false;
        return ClusterKeys.Verify(keys.SiloCall, Text(at, interfaceName, methodName, target), signature[(colon + 1)..]);
    }

    private static string Text(long unixSeconds, string interfaceName, string methodName, string target) =>
        string.Create(CultureInfo.InvariantCulture, $"OSSORLEANS-SILO-V1\n{unixSeconds}\n{interfaceName}\n{methodName}\n{target}");
}
