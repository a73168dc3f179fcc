namespace OssOrleans.Grains.Security;

/// <summary>
/// Who may use the cluster and what each may do. Section <c>Auth</c>. With no tenants the cluster is anonymous: every
/// client may read, list and write everything (the embedded default, on loopback only); with tenants every client request
/// must carry a proof of a tenant's secret and is checked against that tenant's grants.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Tenants given in configuration (prefer environment variables or <see cref="TenantsFile"/> for their secrets).</summary>
    public List<TenantOptions> Tenants { get; set; } = [];

    /// <summary>
    /// A JSON file of tenants, <c>{"Tenants": [{"AccessKeyId": ..., "Secret": ..., "Grants": [...]}]}</c>, added to
    /// <see cref="Tenants"/>. It holds secrets, so the silo refuses to start when other users may read it.
    /// </summary>
    public string? TenantsFile { get; set; }

    /// <summary>
    /// The secret the silos of one cluster share: they sign calls to each other, staged-shard receipts and upload sessions
    /// with keys derived from it. Required when silos run in separate processes (Redis or Kubernetes mode); a one-node
    /// cluster, or silos in one process, make up a random one at start. At least 32 characters.
    /// </summary>
    public string? ClusterSecret { get; set; }

    /// <summary>A file holding <see cref="ClusterSecret"/> (first line); refused when other users may read it.</summary>
    public string? ClusterSecretFile { get; set; }

    /// <summary>
    /// How far a client's proof may be from the silo's clock, either way. Default 2 minutes: a captured proof is
    /// useless after that, and clocks of NTP-synchronized machines are well within it.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a data-plane capability (in a shard location) is accepted. Default 5 minutes; a client asks again after.</summary>
    public TimeSpan CapabilityLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an upload session (and the tokens its parts carry) is accepted. Default 24 hours.</summary>
    public TimeSpan UploadSessionLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Parts one tenant may send to one silo at once. Default 0: half of <c>Cache:MaxOriginConcurrency</c>, so no tenant
    /// can hold every upload slot of a silo.
    /// </summary>
    public int MaxUploadsPerTenant { get; set; }

    /// <summary>
    /// A file to append one JSON line per authenticated client request to (time, tenant, verb, URI, bytes, result), as the
    /// OSS connector's <c>auditPath</c> does. Created owner-only. Default none.
    /// </summary>
    public string? AuditPath { get; set; }
}

/// <summary>One tenant: an access key id, its secret, and its grants.</summary>
public sealed class TenantOptions
{
    /// <summary>The access key id (3 to 128 letters, digits, '.', '_' or '-'); also the S3 access key of the gateway.</summary>
    public string AccessKeyId { get; set; } = "";

    /// <summary>The secret (at least 16 characters). Kept in memory only: SigV4 needs the secret itself. Never logged.</summary>
    public string? Secret { get; set; }

    /// <summary>A file holding the secret (first line), instead of <see cref="Secret"/>; refused when other users may read it.</summary>
    public string? SecretFile { get; set; }

    /// <summary>
    /// Grants, each <c>"verbs oss://bucket/prefix"</c>: verbs a comma-separated subset of <c>read</c>, <c>list</c>,
    /// <c>write</c>, <c>admin</c>; the bucket may be <c>*</c> for every bucket (then without a prefix). For example
    /// <c>"read,list oss://datasets/team-a/"</c>, <c>"write oss://ckpt/team-a/"</c>, <c>"admin oss://*"</c> (the admin API).
    /// </summary>
    public List<string> Grants { get; set; } = [];

    public override string ToString() => $"tenant {AccessKeyId}";
}
