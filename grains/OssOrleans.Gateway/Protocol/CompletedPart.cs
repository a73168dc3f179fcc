namespace OssOrleans.Gateway.Protocol;

/// <summary>One Part of a CompleteMultipartUpload request: its number, the ETag the client got for it, and any checksum it sent.</summary>
internal sealed record CompletedPart(int PartNumber, string ETag)
{
    public ObjectChecksum? Checksum { get; init; }
}
