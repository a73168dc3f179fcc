namespace OssOrleans.Storage;

/// <summary>A multipart upload in progress: its key, the origin's upload id, and when it started.</summary>
public sealed record MultipartUploadInfo(string Key, string UploadId, DateTimeOffset Initiated);
