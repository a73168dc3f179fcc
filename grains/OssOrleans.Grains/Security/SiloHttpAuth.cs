using System.Globalization;

namespace OssOrleans.Grains.Security;

/// <summary>
/// Signs data-plane requests one silo makes of another (a peer copy of a staged shard, and dropping the staging copy
/// after it): header <see cref="Header"/> <c>{unixSeconds}:{mac}</c> over the method and the path with its query, with the
/// cluster's HTTP key. Endpoints that only silos may use (DELETE, reads of staged shards) require it.
/// </summary>
internal static class SiloHttpAuth
{
    public const string Header = "x-oss-silo-auth";

    public static string Sign(ClusterKeys keys, string method, string pathAndQuery, long unixSeconds) =>
        unixSeconds.ToString(CultureInfo.InvariantCulture) + ":" + ClusterKeys.Mac(keys.SiloHttp, Text(method, pathAndQuery, unixSeconds));

    public static bool Verify(ClusterKeys keys, string? header, string method, string pathAndQuery, long now, TimeSpan window)
    {
        if (header is null)
            return false;
        int colon = header.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(header.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long at)
            || Math.Abs(now - at) > window.TotalSeconds)
            return false;
        return ClusterKeys.Verify(keys.SiloHttp, Text(method, pathAndQuery, at), header[(colon + 1)..]);
    }

    private static string Text(string method, string pathAndQuery, long unixSeconds) =>
        string.Create(CultureInfo.InvariantCulture, $"OSSORLEANS-SILO-HTTP-V1\n{unixSeconds}\n{method.ToUpperInvariant()}\n{pathAndQuery}");
}
