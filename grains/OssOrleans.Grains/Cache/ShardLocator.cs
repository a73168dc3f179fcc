using OssOrleans.Grains.Security;

namespace OssOrleans.Grains.Cache;

/// <summary>
/// Makes shard locations for this silo's resident shards: where the data plane is, and a capability for the calling
/// tenant (<see cref="CallerContext"/>) to read the handle.
/// </summary>
internal sealed class ShardLocator(DataPlaneEndpoint endpoint, CapabilityIssuer capabilities, ILocalSiloDetails silo)
{
    private readonly string _silo = silo.SiloAddress.ToString();

    public async ValueTask<ShardLocation> LocateAsync(LoadedShard shard)
    {
        string url = endpoint.Url ?? await endpoint.UrlAsync.ConfigureAwait(false);
        return new ShardLocation(url, shard.Length, shard.Crc64, _silo, endpoint.Local, shard.Handle,
            capabilities.Issue(shard.Handle, CallerContext.TenantOrSilo));
    }
}
