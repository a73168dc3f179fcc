namespace OssOrleans.Gateway.Protocol;

/// <summary>One Error entry of DeleteResult: the key that was not deleted and why (an S3 error code and message).</summary>
internal sealed record DeleteFailure(string Key, string Code, string Message)
{
    public string? VersionId { get; init; }
}
