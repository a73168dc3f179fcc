namespace OssOrleans.Storage;

/// <summary>One page of an upload's parts; <see cref="NextPartNumberMarker"/> is where the next page starts when <see cref="IsTruncated"/>.</summary>
public sealed record PartPage(IReadOnlyList<PartInfo> Parts, bool IsTruncated, int NextPartNumberMarker);
