namespace OssOrleans.Gateway.Protocol;

internal enum RangeOutcome
{
    /// <summary>No range, or one S3 ignores (malformed, or several ranges): 200 with the whole object.</summary>
    Whole,

    /// <summary>206 with <see cref="RangeRequest.Range"/>.</summary>
    Partial,

    /// <summary>416 <c>InvalidRange</c> with <c>Content-Range: bytes */size</c>.</summary>
    Unsatisfiable,
}
