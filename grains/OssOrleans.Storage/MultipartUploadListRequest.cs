namespace OssOrleans.Storage;

/// <summary>
/// A page of <see cref="IObjectStore.ListMultipartUploadsAsync"/>: uploads of keys under <see cref="Prefix"/>, after
/// (<see cref="KeyMarker"/>, <see cref="UploadIdMarker"/>), at most <see cref="MaxUploads"/> (1 to 1000) uploads and
/// common prefixes together, rolled up at <see cref="Delimiter"/> as a listing is.
/// </summary>
public sealed record MultipartUploadListRequest(string Bucket, string Prefix = "")
{
    public string? Delimiter { get; init; }
    public string? KeyMarker { get; init; }
    public string? UploadIdMarker { get; init; }
    public int MaxUploads { get; init; } = 1000;
}
