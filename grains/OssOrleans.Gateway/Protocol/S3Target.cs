namespace OssOrleans.Gateway.Protocol;

/// <summary>What a request addresses: the service, a bucket, or an object (bucket and key, each decoded once).</summary>
internal sealed record S3Target(string? Bucket, string? Key, bool VirtualHosted)
{
    public S3TargetKind Kind => Bucket is null ? S3TargetKind.Service : Key is null ? S3TargetKind.Bucket : S3TargetKind.Object;

    /// <summary>"/bucket/key" as S3 writes Resource in an error: bucket and key unencoded.</summary>
    public string Resource => Bucket is null ? "/" : Key is null ? "/" + Bucket : "/" + Bucket + "/" + Key;
}
