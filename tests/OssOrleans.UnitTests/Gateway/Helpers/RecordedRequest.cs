using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>One request as the endpoint received it, and what the gateway's pieces made of it.</summary>
internal sealed class RecordedRequest(string method, string rawTarget, IHeaderDictionary headers, byte[] body, long? contentLength)
{
    public string Method { get; } = method;

    public string RawTarget { get; } = rawTarget;

    public IHeaderDictionary Headers { get; } = headers;

    public byte[] Body { get; } = body;

    public long? ContentLength { get; } = contentLength;

    public SigV4Outcome? Outcome { get; set; }

    public S3Operation? Operation { get; set; }

    public byte[]? Decoded { get; set; }

    public S3Error? Error { get; set; }

    public override string ToString() =>
        $"{Method} {RawTarget} -> {(Error is null ? "ok" : Error.ToString())}; x-amz-content-sha256={Headers["x-amz-content-sha256"]}, "
        + $"content-encoding={Headers.ContentEncoding}, x-amz-trailer={Headers["x-amz-trailer"]}, signed={string.Join(';', Outcome?.Authentication?.SignedHeaders ?? [])}";
}
