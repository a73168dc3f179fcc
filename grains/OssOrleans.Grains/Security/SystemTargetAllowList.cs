namespace OssOrleans.Grains.Security;

/// <summary>
/// The Orleans system targets a caller without a silo's signature may reach: by default the calls an Orleans client
/// makes itself, fetching the cluster's manifest of grain types when it connects and cancelling its own calls. Every other
/// system target (membership, directory, catalog...) is for silos. In-process test clusters add the testing host's hooks.
/// </summary>
internal sealed class SystemTargetAllowList
{
    private readonly HashSet<string> _interfaces = new(StringComparer.Ordinal)
    {
        "Orleans.Runtime.IClusterManifestSystemTarget",
        "Orleans.Runtime.IGrainCallCancellationManagerSystemTarget",
    };

    public SystemTargetAllowList(params string[] more) => _interfaces.UnionWith(more);

    public bool Allows(string interfaceName) => _interfaces.Contains(interfaceName);
}
