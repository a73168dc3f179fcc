namespace OssOrleans.Storage;

/// <summary>A part uploaded so far to an upload in progress.</summary>
public sealed record PartInfo(int PartNumber, string ETag, long Size, DateTimeOffset LastModified);
