namespace OssOrleans.Storage;

/// <summary>
/// The origin: an object store reached by bucket and key. Implementations are thread-safe.
/// Ranges are (offset, length): the bytes [offset, offset + length) of the object, end-exclusive.
/// </summary>
public interface IObjectStore
{
    /// <summary>A short name for logs and errors, never containing credentials (for example "s3:http://127.0.0.1:9000").</summary>
    string Name { get; }

    /// <summary>Metadata of an object. Throws <see cref="ObjectNotFoundException"/> when it does not exist.</summary>
    Task<ObjectMetadata> HeadAsync(string bucket, string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads exactly <c>destination.Length</c> bytes at <paramref name="offset"/> of the object version
    /// <paramref name="etag"/> into <paramref name="destination"/>, and returns the size of that version as the origin
    /// gave it with the bytes (the total of the Content-Range; -1 for an empty destination, when nothing is asked). The range
    /// must lie inside the object.
    /// Throws <see cref="PreconditionFailedException"/> when the object no longer has that ETag, and
    /// <see cref="OriginProtocolException"/> when the origin answers with anything but exactly that range.
    /// </summary>
    Task<long> ReadRangeAsync(string bucket, string key, string etag, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// Copies exactly <paramref name="length"/> bytes at <paramref name="offset"/> of the object version
    /// <paramref name="etag"/> to <paramref name="destination"/>, with the same checks as <see cref="ReadRangeAsync"/>.
    /// A retry after a partial copy is not possible on a non-seekable destination, so this reports the failure instead.
    /// </summary>
    Task CopyRangeToAsync(string bucket, string key, string etag, long offset, long length, Stream destination, CancellationToken cancellationToken = default);

    /// <summary>One page of a listing, in ascending ordinal (UTF-8 byte) order of keys.</summary>
    Task<ListPage> ListPageAsync(ListRequest request, CancellationToken cancellationToken = default);

    /// <summary>Writes a whole object. The object is visible only once this completes.</summary>
    Task<PutResult> PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts a multipart upload and returns its upload id.</summary>
    Task<string> InitiateMultipartAsync(string bucket, string key, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Uploads one part (numbered from 1). Uploading the same part number again replaces it, so a retry is idempotent.</summary>
    Task<UploadedPart> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// The same, for a caller that already knows the CRC-64/XZ of <paramref name="content"/>: a store that checks parts
    /// by CRC then need not read the bytes once more to compute it.
    /// </summary>
    Task<UploadedPart> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, ulong crc64, CancellationToken cancellationToken = default)
        => UploadPartAsync(bucket, key, uploadId, partNumber, content, cancellationToken);

    /// <summary>Completes a multipart upload; the object becomes visible at once, whole.</summary>
    Task<PutResult> CompleteMultipartAsync(string bucket, string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default);

    /// <summary>Aborts a multipart upload. Throws <see cref="NotSupportedException"/> where the server cannot abort.</summary>
    Task AbortMultipartAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; deleting a missing object is not an error.</summary>
    Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default);

    // ---- buckets and open uploads (the S3 gateway's bucket operations and multipart listings) ----
    // Default bodies say "not supported", so a store written before these existed keeps compiling; the gateway answers
    // NotImplemented for them.

    /// <summary>The buckets the origin's credentials can see, in name order.</summary>
    Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{Name} does not list buckets");

    /// <summary>Whether the bucket exists (and the credentials may see it).</summary>
    Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{Name} does not look up buckets");

    /// <summary>
    /// Creates a bucket. The origin decides: a refusal (it exists, the name is taken or invalid, not allowed) is
    /// <see cref="OriginRefusedException"/> with the origin's S3 error code.
    /// </summary>
    Task CreateBucketAsync(string bucket, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{Name} does not create buckets");

    /// <summary>
    /// Deletes an empty bucket: <see cref="ObjectNotFoundException"/> when it does not exist, <see cref="OriginRefusedException"/>
    /// (BucketNotEmpty, ...) when the origin refuses.
    /// </summary>
    Task DeleteBucketAsync(string bucket, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{Name} does not delete buckets");

    /// <summary>One page of the multipart uploads in progress in a bucket, in key then upload id order.</summary>
    Task<MultipartUploadPage> ListMultipartUploadsAsync(MultipartUploadListRequest request, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{Name} does not list multipart uploads");

    /// <summary>
    /// One page of the parts uploaded so far to an upload, in part number order after <paramref name="partNumberMarker"/>;
    /// <see cref="UploadNotFoundException"/> when the upload does not exist (completed, aborted, another object's).
    /// </summary>
    Task<PartPage> ListPartsAsync(string bucket, string key, string uploadId, int partNumberMarker, int maxParts, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{Name} does not list parts");
}

/// <summary>Metadata from HEAD. <paramref name="Crc64"/> is the whole-object CRC-64/XZ when the origin gives it (OSS's x-oss-hash-crc64ecma).</summary>
public sealed record ObjectMetadata(string Key, long Size, string ETag, DateTimeOffset LastModified, ulong? Crc64 = null, string? ContentType = null);

/// <summary>A listing request. <see cref="MaxKeys"/> is capped at 1000, the S3 maximum.</summary>
public sealed record ListRequest(string Bucket, string Prefix = "")
{
    public string? Delimiter { get; init; }
    public string? StartAfter { get; init; }
    public string? ContinuationToken { get; init; }
    public int MaxKeys { get; init; } = 1000;
}

/// <summary>One entry of a listing.</summary>
public sealed record ListEntry(string Key, long Size, string ETag, DateTimeOffset LastModified);

/// <summary>One page of a listing. <see cref="NextContinuationToken"/> is non-null exactly when <see cref="IsTruncated"/> is true.</summary>
public sealed record ListPage(IReadOnlyList<ListEntry> Entries, IReadOnlyList<string> CommonPrefixes, bool IsTruncated, string? NextContinuationToken);

/// <summary>Options of a write.</summary>
public sealed record PutOptions
{
    /// <summary>Fail with <see cref="ObjectAlreadyExistsException"/> when the key already exists. Default false.</summary>
    public bool CreateOnly { get; init; }
    public string? ContentType { get; init; }
}

/// <summary>The result of a write: the new object's ETag.</summary>
public sealed record PutResult(string ETag);

/// <summary>A part uploaded in a multipart upload.</summary>
public sealed record UploadedPart(int PartNumber, string ETag, long Size);
