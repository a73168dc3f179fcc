using System.Net;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OssOrleans.Grains.Grains;

namespace OssOrleans.UnitTests.Grains;

public sealed class SiloKeyPlacementTests
{
    private static readonly SiloAddress A = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress B = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);
    private static readonly SiloAddress C = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11113), 1);

    private sealed class Context(SiloAddress local, params SiloAddress[] active) : IPlacementContext
    {
        public SiloAddress LocalSilo => local;
        public SiloStatus LocalSiloStatus => SiloStatus.Active;
        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => active;
        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = active };
    }

    private static PlacementTarget Target(SiloAddress keySilo) =>
        new(GrainId.Create("silostats", keySilo.ToParsableString()), [], default, 0);

    [Fact]
    public async Task OnAddActivation_CalledFromAnotherSilo_PlacesOnTheSiloTheKeyNames()
    {
        // The call comes from A (as after a directory loss, from whichever silo asked): the grain still goes to B.
        var placed = await new SiloKeyPlacementDirector().OnAddActivation(SiloKeyPlacement.Instance, Target(B), new Context(A, A, B, C));
        Assert.Equal(B, placed);
    }

    [Fact]
    public async Task OnAddActivation_ForADeadSilo_Throws()
    {
        var ex = await Assert.ThrowsAsync<OrleansException>(() => new SiloKeyPlacementDirector().OnAddActivation(SiloKeyPlacement.Instance, Target(C), new Context(A, A, B)));
        Assert.Contains(C.ToParsableString(), ex.Message, StringComparison.Ordinal);
    }
}
