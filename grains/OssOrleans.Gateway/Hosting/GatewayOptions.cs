namespace OssOrleans.Gateway.Hosting;

/// <summary>The S3 gateway every silo serves. Section <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Serve the gateway at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Where it listens, ';'-separated. Default <c>http://127.0.0.1:0</c> (loopback, any free port: several silos of one
    /// process or machine each get their own); the silo executable's appsettings.json sets <c>http://127.0.0.1:9000</c>.
    /// <c>https://</c> serves it with the cluster's certificate (<c>Tls:*</c>). Beyond loopback the silo host requires tenants
    /// and TLS.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:0";

    /// <summary>
    /// Host names under which buckets are virtual hosts (<c>bucket.s3.example.com</c>), as in S3's virtual-hosted addressing.
    /// Default none: path-style only (<c>/bucket/key</c>), which is what clients use on a custom endpoint.
    /// </summary>
    public List<string> BaseDomains { get; set; } = [];

    /// <summary>The region GetBucketLocation and HeadBucket answer with. Default <c>us-east-1</c> (what clients assume on a custom endpoint).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>How far a header-signed request's time may be from the silo's clock. Default 15 minutes, as S3.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// PutObject bodies up to this size are read into memory whole, checked, and written to the origin with one PUT (the
    /// object's ETag is then the origin's single-part ETag, the MD5 that rclone and s3cmd compare). Larger bodies go to the
    /// origin as a multipart upload in <see cref="WritePartSize"/> parts, so memory stays at one part. Default 16 MiB.
    /// </summary>
    public int SinglePutLimit { get; set; } = 16 << 20;

    /// <summary>Part size of large PutObject and CopyObject requests (rounded up to whole shards, at least 5 MiB). Default 16 MiB.</summary>
    public int WritePartSize { get; set; } = 16 << 20;

    /// <summary>Largest UploadPart body accepted (a part is held in memory while it is checked and sent on). Default 256 MiB; at most 1 GiB.</summary>
    public int MaxPartSize { get; set; } = 256 << 20;

    /// <summary>Largest object a PutObject or CopyObject may write. Default 5 GiB, as S3.</summary>
    public long MaxObjectSize { get; set; } = 5L << 30;

    /// <summary>
    /// How long one part's worth of request body (or a whole small body) may take to arrive before the request is dropped,
    /// besides Kestrel's minimum data rate. Default 2 minutes.
    /// </summary>
    public TimeSpan BodyTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Shards of a GetObject located (loaded if needed) ahead of the one being sent. Default 4.</summary>
    public int ReadAheadShards { get; set; } = 4;

    /// <summary>Shards beyond those that the cluster is asked to load ahead of a GetObject (within its range), fire and forget. Default 16.</summary>
    public int ClusterReadAheadShards { get; set; } = 16;

    /// <summary>
    /// Bytes read per request from another silo's data plane, each checked against the shard's CRC-64 before it is sent on.
    /// Memory per GetObject is at most <see cref="RemoteReadAhead"/> such pieces. Default 1 MiB.
    /// </summary>
    public int RemoteReadBytes { get; set; } = 1 << 20;

    /// <summary>Pieces read from other silos ahead of the one being sent. Default 4.</summary>
    public int RemoteReadAhead { get; set; } = 4;

    /// <summary>Listing cursors kept open between the pages of a listing (a paging client continues where it left off). Default 256.</summary>
    public int ListCursors { get; set; } = 256;

    /// <summary>How long an idle listing cursor is kept. Default 60 s.</summary>
    public TimeSpan ListCursorIdle { get; set; } = TimeSpan.FromSeconds(60);
}
