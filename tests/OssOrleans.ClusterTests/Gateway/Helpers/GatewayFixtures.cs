using OssOrleans.Grains.Security;

namespace OssOrleans.ClusterTests.Gateway;

/// <summary>Two silos without tenants (the embedded default's mode): any key, or none, is the anonymous tenant.</summary>
public sealed class AnonymousGatewayFixture : IAsyncLifetime
{
    public GatewayCluster Gateway { get; private set; } = null!;

    // Small bodies read whole; a larger PutObject goes through the multipart writer (parts of 5 MiB, shards of 1 MiB).
    public async Task InitializeAsync() => Gateway = await GatewayCluster.StartAsync(silos: 2, gateway: o =>
    {
        o.SinglePutLimit = 2 << 20;
        o.WritePartSize = 5 << 20;
        o.BodyTimeout = TimeSpan.FromSeconds(3);
    });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class AnonymousGatewayCollection : ICollectionFixture<AnonymousGatewayFixture>
{
    public const string Name = "gateway-anonymous";
}

/// <summary>One silo with tenants: every request must be signed by one, and is checked against its grants.</summary>
public sealed class TenantGatewayFixture : IAsyncLifetime
{
    public const string Reader = "reader-team-a";
    public const string Writer = "writer-team-a";
    public const string Admin = "bucket-admin";
    public const string Secret = "secret-of-at-least-16-chars";

    public GatewayCluster Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await GatewayCluster.StartAsync(silos: 1, gateway: o => o.MaxClockSkew = TimeSpan.FromMinutes(5), auth: a =>
    {
        a.Tenants.Add(new TenantOptions { AccessKeyId = Reader, Secret = Secret + "-r", Grants = [$"read,list oss://{GatewayCluster.Bucket}/team-a/"] });
        a.Tenants.Add(new TenantOptions { AccessKeyId = Writer, Secret = Secret + "-w", Grants = [$"read,list,write oss://{GatewayCluster.Bucket}/team-a/"] });
        a.Tenants.Add(new TenantOptions { AccessKeyId = Admin, Secret = Secret + "-a", Grants = ["admin oss://made-by-admin", $"list oss://{GatewayCluster.Bucket}/"] });
    });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class TenantGatewayCollection : ICollectionFixture<TenantGatewayFixture>
{
    public const string Name = "gateway-tenants";
}
