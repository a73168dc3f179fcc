using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace OssOrleans.Grains.Grains;

/// <summary>
/// Places a grain whose string key is a silo address (<see cref="SiloAddress.ToParsableString"/>) on that silo, and
/// nowhere else. Prefer-local placement was not enough for per-silo grains: when a silo dies, the directory entries it
/// held are lost, and the next call re-activated another silo's stats grain on whichever silo made the call.
/// </summary>
[GenerateSerializer, Immutable, Alias("OssOrleans.SiloKeyPlacement")]
internal sealed class SiloKeyPlacement : PlacementStrategy
{
    internal static readonly SiloKeyPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloKeyPlacementAttribute() : PlacementAttribute(SiloKeyPlacement.Instance);

internal sealed class SiloKeyPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString();
        var silo = SiloAddress.FromParsableString(key);
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new OrleansException($"silo {key} is not an active member of the cluster");
        return Task.FromResult(silo);
    }
}
