namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// A request whose SigV4 signature checked out: who signed it, for which region, and what its body must be checked
/// against. For aws-chunked bodies it carries the signing key and the seed signature that chunk signatures chain
/// from; the key is derived from the secret, so this object is never logged whole (<see cref="ToString"/> leaves
/// it out) and lives only as long as the request.
/// </summary>
internal sealed class SigV4Authentication
{
    private readonly byte[] _signingKey;
    private readonly byte[]? _payloadSha256;

    internal SigV4Authentication(string accessKeyId, string region, string amzDate, DateTimeOffset requestTime, bool isPresigned,
        PayloadMode payloadMode, byte[]? payloadSha256, byte[] signingKey, string seedSignature, IReadOnlyList<string> signedHeaders)
    {
        AccessKeyId = accessKeyId;
        Region = region;
        AmzDate = amzDate;
        RequestTime = requestTime;
        IsPresigned = isPresigned;
        PayloadMode = payloadMode;
        _payloadSha256 = payloadSha256;
        _signingKey = signingKey;
        SeedSignature = seedSignature;
        SignedHeaders = signedHeaders;
    }

    public string AccessKeyId { get; }

    /// <summary>The region the client signed for, as it wrote it: clients on a custom endpoint pick their own (often us-east-1).</summary>
    public string Region { get; }

    /// <summary>The signing time as signed ("yyyyMMddTHHmmssZ").</summary>
    public string AmzDate { get; }

    public DateTimeOffset RequestTime { get; }

    public bool IsPresigned { get; }

    public PayloadMode PayloadMode { get; }

    /// <summary>With <see cref="PayloadMode.Sha256"/>: the 32 bytes the body must hash to; otherwise empty.</summary>
    public ReadOnlySpan<byte> PayloadSha256 => _payloadSha256;

    /// <summary>date/region/s3/aws4_request.</summary>
    public string Scope => $"{AmzDate[..8]}/{Region}/{SigV4Signing.Service}/{SigV4Signing.Terminator}";

    /// <summary>The request's own signature (hex): the "previous signature" of the first aws-chunked chunk.</summary>
    public string SeedSignature { get; }

    /// <summary>The lower-case names of the headers the signature covers.</summary>
    public IReadOnlyList<string> SignedHeaders { get; }

    internal ReadOnlySpan<byte> SigningKey => _signingKey;

    public override string ToString() => $"SigV4 {AccessKeyId} {Scope} {PayloadMode}{(IsPresigned ? " presigned" : "")}";
}
