using System.ComponentModel.DataAnnotations;

namespace OssOrleans.Silo.Hosting;

/// <summary>Where objects come from. Section <c>Origin</c>.</summary>
public sealed class OriginOptions
{
    public const string Section = "Origin";

    /// <summary><c>Local</c> (default: a folder on this machine) or <c>S3</c> (Alibaba Cloud OSS or any S3-compatible store; settings under <c>Origin:S3</c>).</summary>
    public OriginKind Kind { get; set; } = OriginKind.Local;

    /// <summary>Root folder of the local origin; each subfolder is a bucket. Default <c>./data</c>, relative to the working directory.</summary>
    public string LocalRoot { get; set; } = "./data";

    /// <summary>Seed a small <c>sample</c> bucket into an empty local origin at start. Default true.</summary>
    public bool SeedSample { get; set; } = true;
}

public enum OriginKind
{
    Local,
    S3,
}

/// <summary>How this silo finds its peers. Section <c>Cluster</c>.</summary>
public sealed class SiloClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>
    /// <c>Localhost</c> (default: a one-node cluster on loopback), <c>Redis</c> (membership in the Redis server at
    /// <see cref="Redis"/>) or <c>Kubernetes</c> (Redis membership, plus Orleans' Kubernetes hosting: cluster id, service id
    /// and advertised address come from the pod's environment, and pods of dead silos are deleted; see deploy/).
    /// </summary>
    public ClusterMode Mode { get; set; } = ClusterMode.Localhost;

    /// <summary>Orleans cluster id. Default <c>ossorleans</c>.</summary>
    [Required] public string ClusterId { get; set; } = "ossorleans";

    /// <summary>Orleans service id. Default <c>ossorleans</c>.</summary>
    [Required] public string ServiceId { get; set; } = "ossorleans";

    /// <summary>Silo-to-silo port. Default 11111.</summary>
    [Range(1, 65535)] public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to. Default 30000.</summary>
    [Range(1, 65535)] public int GatewayPort { get; set; } = 30000;

    /// <summary>Address advertised to peers in Redis mode. Default: loopback.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>StackExchange.Redis connection string, required when <see cref="Mode"/> is Redis. Default empty.</summary>
    public string Redis { get; set; } = "";
}

public enum ClusterMode
{
    Localhost,
    Redis,
    Kubernetes,
}

/// <summary>The HTTP endpoint of this silo (data plane, admin API). Section <c>Http</c>.</summary>
public sealed class HttpEndpointOptions
{
    public const string Section = "Http";

    /// <summary>Listen URLs, separated by ';'. Default <c>http://127.0.0.1:8080</c> (loopback only).</summary>
    [Required] public string Urls { get; set; } = "http://127.0.0.1:8080";
}

/// <summary>
/// The admin API (<c>/admin/api/...</c>), the dashboard page (<c>/dashboard</c>) and the Orleans Dashboard
/// (<c>/orleans-dashboard</c>) on the HTTP endpoint. Section <c>Admin</c>.
/// </summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>Serve the admin API and both dashboards. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Bearer token the admin API and the Orleans Dashboard require (<c>Authorization: Bearer &lt;token&gt;</c>). When set it is
    /// required on every address. When empty the admin API is open, which the silo allows only while every
    /// <c>Http:Urls</c> entry is a loopback address: a silo bound beyond loopback without a token refuses to start.
    /// Default empty. Never logged or returned.
    /// </summary>
    public string Token
    {
        get => _token;
        set => _token = value ?? ""; // an empty value in configuration binds as null
    }

    private string _token = "";
}
