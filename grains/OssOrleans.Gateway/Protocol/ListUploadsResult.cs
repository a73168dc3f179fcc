namespace OssOrleans.Gateway.Protocol;

/// <summary>A page of ListMultipartUploads, echoing the request's markers, prefix, delimiter and max-uploads.</summary>
internal sealed record ListUploadsResult(string Bucket, int MaxUploads, bool IsTruncated, IReadOnlyList<UploadEntry> Uploads, IReadOnlyList<string> CommonPrefixes)
{
    public string KeyMarker { get; init; } = "";

    public string UploadIdMarker { get; init; } = "";

    public string? NextKeyMarker { get; init; }

    public string? NextUploadIdMarker { get; init; }

    public string? Prefix { get; init; }

    public string? Delimiter { get; init; }

    /// <summary>encoding-type=url: Key, Prefix, Delimiter, KeyMarker, NextKeyMarker and CommonPrefixes are encoded.</summary>
    public bool UrlEncoded { get; init; }
}
