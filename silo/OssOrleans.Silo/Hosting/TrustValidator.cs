using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Security;

namespace OssOrleans.Silo.Hosting;

/// <summary>
/// The rules that keep a silo from being shared by accident. Anything that listens beyond loopback (the HTTP endpoint, the
/// data plane, the S3 gateway, the silo and gateway ports of a multi-machine cluster) needs tenants, so every request proves who makes it,
/// and TLS, so no secret, token or byte crosses the network in the clear (the HTTP listeners then serve https). Silos in
/// separate processes need a shared cluster secret. The embedded default (one node, everything on loopback, no tenants)
/// needs none of it.
/// </summary>
internal static class TrustValidator
{
    public static ValidateOptionsResult Validate(SiloClusterOptions cluster, HttpEndpointOptions http, CacheOptions cache, AuthOptions auth,
        TenantRegistry tenants, ClusterTls tls, GatewayOptions? gateway = null)
    {
        if (cluster.Mode != ClusterMode.Localhost && !ClusterKeys.IsConfigured(auth))
            return ValidateOptionsResult.Fail($"{AuthOptions.Section}:ClusterSecret: required in {SiloClusterOptions.Section}:Mode {cluster.Mode}: " +
                $"every silo of the cluster must have the same one (for example OSSORLEANS_{AuthOptions.Section}__ClusterSecret=$(openssl rand -hex 32))");

        var exposed = new List<(string Setting, string Value, bool Http)>();
        foreach (var url in http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ListenUrls.IsLoopback(url))
                exposed.Add(($"{HttpEndpointOptions.Section}:Urls", url, true));
        }
        if (!ListenUrls.IsLoopback(cache.DataPlaneUrl))
            exposed.Add(($"{CacheOptions.Section}:DataPlaneUrl", cache.DataPlaneUrl, true));
        if (gateway is { Enabled: true })
        {
            foreach (var url in gateway.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!ListenUrls.IsLoopback(url))
                    exposed.Add(($"{GatewayOptions.Section}:Urls", url, true));
            }
        }
        if (cluster.Mode == ClusterMode.Kubernetes)
            exposed.Add(($"{SiloClusterOptions.Section}:Mode", "Kubernetes (the silo and gateway ports listen on the pod's address)", false));
        else if (cluster.Mode == ClusterMode.Redis && !IsLoopbackAddress(cluster.AdvertisedAddress))
            exposed.Add(($"{SiloClusterOptions.Section}:AdvertisedAddress", cluster.AdvertisedAddress, false));
        if (exposed.Count == 0)
            return ValidateOptionsResult.Success;

        var (setting, value, _) = exposed[0];
        string why = $"{setting} listens beyond loopback ('{value}')";
        if (tenants.IsAnonymous)
            return ValidateOptionsResult.Fail($"{AuthOptions.Section}:Tenants: required because {why}; without tenants anyone who reaches it could read and write every bucket " +
                $"(give {AuthOptions.Section}:Tenants or {AuthOptions.Section}:TenantsFile; see the README's Security section)");
        if (!tls.Enabled)
            return ValidateOptionsResult.Fail($"{ClusterTlsOptions.Section}:CertificateFile: required because {why}; secrets, tokens and bytes must not cross the network in the clear " +
                $"(give {ClusterTlsOptions.Section}:CertificateFile, {ClusterTlsOptions.Section}:KeyFile and {ClusterTlsOptions.Section}:CaFile)");
        foreach (var (s, v, isHttp) in exposed)
        {
            if (isHttp && !v.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                return ValidateOptionsResult.Fail($"{s}: '{v}' listens beyond loopback, so it must be https:// (served with the certificate of {ClusterTlsOptions.Section}:CertificateFile)");
        }
        return ValidateOptionsResult.Success;
    }

    internal static bool IsLoopbackAddress(string address) =>
        System.Net.IPAddress.TryParse(address, out var ip) && System.Net.IPAddress.IsLoopback(ip);
}
