namespace OssOrleans.Gateway.Protocol;

/// <summary>One Part of ListPartsResult.</summary>
internal sealed record PartEntry(int PartNumber, DateTimeOffset LastModified, string ETag, long Size)
{
    public ObjectChecksum? Checksum { get; init; }
}
