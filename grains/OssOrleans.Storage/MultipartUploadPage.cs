namespace OssOrleans.Storage;

/// <summary>One page of uploads in progress; the markers are set exactly when <see cref="IsTruncated"/>.</summary>
public sealed record MultipartUploadPage(IReadOnlyList<MultipartUploadInfo> Uploads, IReadOnlyList<string> CommonPrefixes, bool IsTruncated)
{
    public string? NextKeyMarker { get; init; }
    public string? NextUploadIdMarker { get; init; }
}
