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
        o.BaseDomains = [VirtualHostDomain];
    });

    /// <summary>Buckets are virtual hosts under this name (resolved to loopback by the tests' own connection code).</summary>
    public const string VirtualHostDomain = "s3.gateway.test";

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
    public const string WriterB = "writer-team-b";
    public const string Admin = "bucket-admin";

    public GatewayCluster Gateway { get; private set; } = null!;

    /// <summary>The audit log of the silo: checked for secrets and signatures.</summary>
    public string AuditPath { get; } = Path.Combine(Path.GetTempPath(), $"gateway-audit-{Guid.NewGuid():N}.jsonl");

    public static string SecretOf(string tenant) => "secret-of-" + tenant + "-0123456789";

    // One upload slot per tenant, so a stalled upload shows the per-tenant bound; bodies that stall time out in 3 s.
    public async Task InitializeAsync() => Gateway = await GatewayCluster.StartAsync(silos: 1, gateway: o =>
    {
        o.MaxClockSkew = TimeSpan.FromMinutes(5);
        o.BodyTimeout = TimeSpan.FromSeconds(3);
    }, auth: a =>
    {
        a.MaxUploadsPerTenant = 1;
        a.AuditPath = AuditPath;
        a.Tenants.Add(new TenantOptions { AccessKeyId = Reader, Secret = SecretOf(Reader), Grants = [$"read,list oss://{GatewayCluster.Bucket}/team-a/"] });
        a.Tenants.Add(new TenantOptions { AccessKeyId = Writer, Secret = SecretOf(Writer), Grants = [$"read,list,write oss://{GatewayCluster.Bucket}/team-a/"] });
        a.Tenants.Add(new TenantOptions { AccessKeyId = WriterB, Secret = SecretOf(WriterB), Grants = [$"read,list,write oss://{GatewayCluster.Bucket}/team-b/"] });
        a.Tenants.Add(new TenantOptions { AccessKeyId = Admin, Secret = SecretOf(Admin), Grants = ["admin oss://made-by-admin"] });
    });

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        File.Delete(AuditPath);
    }
}

[CollectionDefinition(Name)]
public sealed class TenantGatewayCollection : ICollectionFixture<TenantGatewayFixture>
{
    public const string Name = "gateway-tenants";
}
