using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace OssOrleans.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> on the S3 API (AWSSDK.S3): Alibaba Cloud OSS through its S3-compatible API,
/// AWS S3, MinIO, s3rver. Thread-safe; keep one per endpoint for the life of the process (it pools connections).
/// </summary>
/// <remarks>
/// <para>Every ranged read sends If-Match with the ETag (and <c>x-oss-range-behavior: standard</c> to OSS), and
/// accepts only HTTP 206 with exactly <c>Content-Range: bytes {offset}-{offset+length-1}/{size}</c> and exactly
/// <c>length</c> body bytes; anything else is retried and then reported as <see cref="OriginProtocolException"/>,
/// so bytes from a wrong offset are never returned. A response whose ETag differs from the one asked for
/// (a server that ignores If-Match) is <see cref="PreconditionFailedException"/>.</para>
/// <para>The SDK's own retries are off; <see cref="RetryPolicy"/> retries throttling, 5xx, timeouts and connection
/// faults with jittered backoff, then throws <see cref="OriginUnavailableException"/>.</para>
/// <para>A range that reaches past the end of the object is <see cref="ArgumentOutOfRangeException"/>, as in
/// <see cref="LocalDirectoryObjectStore"/>.</para>
/// </remarks>
public sealed partial class S3ObjectStore : IObjectStore, IDisposable
{
    /// <summary>OSS's whole-object CRC-64/XZ, a decimal ulong.</summary>
    internal const string Crc64Header = "x-oss-hash-crc64ecma";
    internal const string OssRangeBehaviorHeader = "x-oss-range-behavior";
    internal const string OssForbidOverwriteHeader = "x-oss-forbid-overwrite";
    /// <summary>Marks upload ids of create-only multipart uploads, so completion knows without shared state.</summary>
    internal const string CreateOnlyUploadPrefix = "create-only:";
    // Copy buffer for CopyRangeToAsync: the Stream.CopyTo default, below the large object heap threshold.
    private const int CopyBufferSize = 81_920;

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly OssEndpointInfo _endpoint;
    private readonly RetryPolicy _retry;
    private readonly ILogger _logger;
    private readonly S3RawClient? _raw;

    /// <summary>Creates a store from options; validates them (<see cref="ArgumentException"/> naming each bad option) and resolves credentials (<see cref="CredentialsException"/>).</summary>
    public S3ObjectStore(S3StoreOptions options, ILogger<S3ObjectStore>? logger = null, TimeProvider? time = null)
        : this(options, logger, time, getEnvironmentVariable: null)
    {
    }

    /// <summary>The same, with a seam for the environment variables.</summary>
    internal S3ObjectStore(S3StoreOptions options, ILogger? logger, TimeProvider? time, Func<string, string?>? getEnvironmentVariable)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptionsResult validation = new S3StoreOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException($"invalid S3 store options: {validation.FailureMessage}", nameof(options));
        }
        _logger = logger ?? NullLogger.Instance;
        _endpoint = OssEndpoint.Resolve(options.Endpoint, options.Region, options.ForcePathStyle);
        _retry = RetryPolicy.FromOptions(options, time);
        AWSCredentials credentials = OssCredentialSources.Resolve(options, getEnvironmentVariable, time, _logger);
        var client = new AmazonS3Client(credentials, CreateConfig(options, _endpoint));
        client.AfterResponseEvent += CaptureOssHeaders;
        _client = client;
        _ownsClient = true;
        _raw = new S3RawClient(_endpoint, credentials, options, time);
        LogCreated(_logger, Name, _endpoint.AuthenticationRegion, _endpoint.ForcePathStyle ? "path-style" : "virtual-hosted", credentials.ToString() ?? "", _retry.MaxAttempts);
    }

    /// <summary>Test seam: a store over a given client (not disposed by the store).</summary>
    internal S3ObjectStore(IAmazonS3 client, OssEndpointInfo endpoint, RetryPolicy retry, ILogger? logger = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
        _retry = retry ?? throw new ArgumentNullException(nameof(retry));
        _logger = logger ?? NullLogger.Instance;
        if (client is AmazonServiceClient serviceClient)
        {
            serviceClient.AfterResponseEvent += CaptureOssHeaders;
        }
    }

    /// <summary>Creates a store from bound options (for hosts using Microsoft.Extensions.Options).</summary>
    public static S3ObjectStore Create(IOptions<S3StoreOptions> options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new S3ObjectStore(options.Value, loggerFactory?.CreateLogger<S3ObjectStore>(), time);
    }

    /// <inheritdoc />
    public string Name => "s3:" + _endpoint.DisplayUrl;

    /// <summary>The SDK client settings this store needs, from options and the resolved endpoint.</summary>
    internal static AmazonS3Config CreateConfig(S3StoreOptions options, OssEndpointInfo endpoint) => new()
    {
        ServiceURL = endpoint.DisplayUrl,
        ForcePathStyle = endpoint.ForcePathStyle,
        AuthenticationRegion = endpoint.AuthenticationRegion,
        UseHttp = endpoint.UseHttp,
        // We retry ourselves (RetryPolicy); SDK retries would multiply the attempts and hide them from our logs.
        MaxErrorRetry = 0,
        // Several S3-compatible services (OSS among them) reject the SDK's default flexible checksums.
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        Timeout = options.RequestTimeout,
        MaxConnectionsPerServer = options.MaxConnections,
    };

    /// <inheritdoc />
    /// <remarks><see cref="ObjectMetadata.Crc64"/> comes from OSS's <c>x-oss-hash-crc64ecma</c> header when present.</remarks>
    public Task<ObjectMetadata> HeadAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ValidateNames(bucket, key);
        return ExecuteAsync("HEAD", bucket, key, async (_, token) =>
        {
            GetObjectMetadataResponse response;
            try
            {
                response = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ObjectNotFoundException(bucket, key, ex);
            }
            return new ObjectMetadata(
                key,
                response.ContentLength,
                response.ETag ?? "",
                ToOffset(response.LastModified),
                ParseCrc64(response.ResponseMetadata),
                response.Headers?.ContentType);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> ReadRangeAsync(string bucket, string key, string etag, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ValidateRead(bucket, key, etag, offset, destination.Length);
        if (destination.IsEmpty)
        {
            // Nothing is asked of the origin, so nothing is known of the size.
            return Task.FromResult(-1L);
        }
        long length = destination.Length;
        return ExecuteAsync("GET", bucket, key, async (_, token) =>
        {
            using GetObjectResponse response = await GetRangeAsync(bucket, key, etag, offset, length, token).ConfigureAwait(false);
            long size = CheckRangeResponse(response, bucket, key, etag, offset, length);
            Stream body = response.ResponseStream;
            int filled = 0;
            while (filled < destination.Length)
            {
                // Straight from the socket into the caller's memory: no intermediate copy.
                int n = await body.ReadAsync(destination[filled..], token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw Truncated(bucket, key, offset, length, filled);
                }
                filled += n;
            }
            await EnsureBodyEndedAsync(body, bucket, key, offset, length, token).ConfigureAwait(false);
            return size;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A failed attempt is retried from the start when <paramref name="destination"/> can seek (it is rewound to where
    /// it was); when it cannot and bytes were already written, the failure is reported as <see cref="OriginUnavailableException"/>.
    /// </remarks>
    public Task CopyRangeToAsync(string bucket, string key, string etag, long offset, long length, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ValidateRead(bucket, key, etag, offset, length);
        if (length == 0)
        {
            return Task.CompletedTask;
        }
        long start = destination.CanSeek ? destination.Position : -1;
        return ExecuteAsync("GET", bucket, key, async (attempt, token) =>
        {
            if (attempt > 1 && start >= 0)
            {
                destination.Position = start;
            }
            using GetObjectResponse response = await GetRangeAsync(bucket, key, etag, offset, length, token).ConfigureAwait(false);
            CheckRangeResponse(response, bucket, key, etag, offset, length);
            Stream body = response.ResponseStream;
            byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CopyBufferSize, length));
            long copied = 0;
            try
            {
                while (copied < length)
                {
                    int n = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - copied)), token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw Truncated(bucket, key, offset, length, copied);
                    }
                    await destination.WriteAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
                    copied += n;
                }
                await EnsureBodyEndedAsync(body, bucket, key, offset, length, token).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (copied > 0 && start < 0 && !cancellationToken.IsCancellationRequested
                && RetryPolicy.Classify(ex, token.IsCancellationRequested) != FailureKind.Permanent)
            {
                throw new OriginUnavailableException(
                    $"{Name} GET {bucket}/{key} bytes {offset}-{offset + length - 1} failed after {copied} of {length} bytes were copied; "
                    + $"the destination cannot seek, so the copy is not retried: {RetryPolicy.Describe(ex)}", ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>MaxKeys is always sent (min(MaxKeys, 1000)): OSS pages 100 keys by default.</remarks>
    public Task<ListPage> ListPageAsync(ListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        StoreKeys.ValidateBucket(request.Bucket);
        ArgumentNullException.ThrowIfNull(request.Prefix, nameof(request.Prefix));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.MaxKeys, nameof(request.MaxKeys));
        string bucket = request.Bucket;
        return ExecuteAsync("LIST", bucket, request.Prefix, async (_, token) =>
        {
            if (_raw is not null)
            {
                ListPage page;
                try
                {
                    page = await _raw.ListAsync(request, token).ConfigureAwait(false);
                }
                catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new ObjectNotFoundException(bucket, request.Prefix, ex);
                }
                CheckPaging(page.IsTruncated, page.NextContinuationToken, request, bucket);
                return page.IsTruncated ? page : page with { NextContinuationToken = null };
            }
            var list = new ListObjectsV2Request
            {
                BucketName = bucket,
                Prefix = request.Prefix,
                Delimiter = NullIfEmpty(request.Delimiter),
                StartAfter = NullIfEmpty(request.StartAfter),
                ContinuationToken = NullIfEmpty(request.ContinuationToken),
                MaxKeys = Math.Min(request.MaxKeys, 1000),
            };
            ListObjectsV2Response response;
            try
            {
                response = await _client.ListObjectsV2Async(list, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ObjectNotFoundException(bucket, request.Prefix, ex);
            }
            bool truncated = response.IsTruncated ?? false;
            string? next = NullIfEmpty(response.NextContinuationToken);
            CheckPaging(truncated, next, request, bucket);
            var entries = new List<ListEntry>(response.S3Objects?.Count ?? 0);
            foreach (S3Object o in response.S3Objects ?? [])
            {
                entries.Add(new ListEntry(o.Key, o.Size ?? 0, o.ETag ?? "", ToOffset(o.LastModified)));
            }
            IReadOnlyList<string> prefixes = response.CommonPrefixes ?? [];
            return new ListPage(entries, prefixes, truncated, truncated ? next : null);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Create-only sends <c>If-None-Match: *</c> (S3, MinIO) or <c>x-oss-forbid-overwrite: true</c> (OSS); 412 or 409
    /// means the object exists. A server that ignores both (s3rver, OSS on versioned buckets) overwrites: this store
    /// does not emulate the check client-side, because a check-then-put would race anyway. When a retried create-only
    /// put finds an object whose ETag is the MD5 of this content, an earlier attempt succeeded and the put succeeds.
    /// </remarks>
    public Task<PutResult> PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateNames(bucket, key);
        bool createOnly = options?.CreateOnly ?? false;
        return ExecuteAsync("PUT", bucket, key, async (attempt, token) =>
        {
            var request = new PutObjectRequest
            {
                BucketName = bucket,
                Key = key,
                InputStream = AsStream(content),
                AutoCloseStream = true,
                // Required: some servers store the aws-chunked framing inside the object.
                UseChunkEncoding = false,
                ContentType = options?.ContentType,
            };
            if (createOnly)
            {
                if (_endpoint.IsOss)
                {
                    request.Headers[OssForbidOverwriteHeader] = "true";
                }
                else
                {
                    request.IfNoneMatch = "*";
                }
            }
            try
            {
                PutObjectResponse response = await _client.PutObjectAsync(request, token).ConfigureAwait(false);
                return new PutResult(response.ETag ?? "");
            }
            catch (AmazonS3Exception ex) when (createOnly && ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
            {
                if (attempt > 1 && await FindOwnWriteAsync(bucket, key, content, token).ConfigureAwait(false) is { } own)
                {
                    LogOwnWrite(_logger, Name, "PUT", bucket, key);
                    return new PutResult(own);
                }
                throw new ObjectAlreadyExistsException(bucket, key, ex);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                // NoSuchBucket: there is nothing to write into.
                throw new ObjectNotFoundException(bucket, key, ex);
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>For a create-only upload the returned id carries a "create-only:" mark before the server's upload id.</remarks>
    public Task<string> InitiateMultipartAsync(string bucket, string key, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateNames(bucket, key);
        bool createOnly = options?.CreateOnly ?? false;
        return ExecuteAsync("INITIATE", bucket, key, async (_, token) =>
        {
            var request = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key, ContentType = options?.ContentType };
            if (createOnly && _endpoint.IsOss)
            {
                request.Headers[OssForbidOverwriteHeader] = "true";
            }
            try
            {
                InitiateMultipartUploadResponse response = await _client.InitiateMultipartUploadAsync(request, token).ConfigureAwait(false);
                return createOnly ? CreateOnlyUploadPrefix + response.UploadId : response.UploadId;
            }
            catch (AmazonS3Exception ex) when (createOnly && ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
            {
                throw new ObjectAlreadyExistsException(bucket, key, ex);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ObjectNotFoundException(bucket, key, ex);
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<UploadedPart> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        => UploadPartAsync(bucket, key, uploadId, partNumber, content, knownCrc64: null, cancellationToken);

    /// <inheritdoc />
    public Task<UploadedPart> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, ulong crc64, CancellationToken cancellationToken = default)
        => UploadPartAsync(bucket, key, uploadId, partNumber, content, (ulong?)crc64, cancellationToken);

    private Task<UploadedPart> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, ulong? knownCrc64, CancellationToken cancellationToken)
    {
        ValidateNames(bucket, key);
        ArgumentOutOfRangeException.ThrowIfLessThan(partNumber, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partNumber, 10_000);
        (string serverUploadId, _) = ParseUploadId(uploadId);
        return ExecuteAsync("UPLOADPART", bucket, key, async (_, token) =>
        {
            if (_raw is not null && S3RawClient.CanAddress(key))
            {
                try
                {
                    string etag = await _raw.UploadPartAsync(bucket, key, serverUploadId, partNumber, content, knownCrc64, token).ConfigureAwait(false);
                    return new UploadedPart(partNumber, etag, content.Length);
                }
                catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
                {
                    throw NoSuchUpload(bucket, key, uploadId, ex);
                }
            }
            var request = new UploadPartRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = serverUploadId,
                PartNumber = partNumber,
                PartSize = content.Length,
                InputStream = AsStream(content),
                // Required, as for PutObject.
                UseChunkEncoding = false,
            };
            try
            {
                UploadPartResponse response = await _client.UploadPartAsync(request, token).ConfigureAwait(false);
                return new UploadedPart(partNumber, response.ETag ?? "", content.Length);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                throw NoSuchUpload(bucket, key, uploadId, ex);
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<PutResult> CompleteMultipartAsync(string bucket, string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default)
    {
        ValidateNames(bucket, key);
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("a multipart upload needs at least one part", nameof(parts));
        }
        (string serverUploadId, bool createOnly) = ParseUploadId(uploadId);
        return ExecuteAsync("COMPLETE", bucket, key, async (attempt, token) =>
        {
            var request = new CompleteMultipartUploadRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = serverUploadId,
                PartETags = parts.OrderBy(p => p.PartNumber).Select(p => new PartETag(p.PartNumber, p.ETag)).ToList(),
            };
            if (createOnly)
            {
                if (_endpoint.IsOss)
                {
                    AddHeader(request, OssForbidOverwriteHeader, "true");
                }
                else
                {
                    request.IfNoneMatch = "*";
                }
            }
            try
            {
                CompleteMultipartUploadResponse response = await _client.CompleteMultipartUploadAsync(request, token).ConfigureAwait(false);
                return new PutResult(response.ETag ?? "");
            }
            catch (AmazonS3Exception ex) when (createOnly && ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
            {
                throw new ObjectAlreadyExistsException(bucket, key, ex);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode == "NoSuchBucket")
            {
                throw new ObjectNotFoundException(bucket, key, ex);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                // After a lost response the upload is gone because it completed: the object is there.
                if (attempt > 1 && await TryHeadETagAsync(bucket, key, token).ConfigureAwait(false) is { } etag)
                {
                    LogOwnWrite(_logger, Name, "COMPLETE", bucket, key);
                    return new PutResult(etag);
                }
                throw NoSuchUpload(bucket, key, uploadId, ex);
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>An upload that is already gone (404) is not an error. A 405 or 501 answer is <see cref="NotSupportedException"/>.</remarks>
    public Task AbortMultipartAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken = default)
    {
        ValidateNames(bucket, key);
        (string serverUploadId, _) = ParseUploadId(uploadId);
        return ExecuteAsync("ABORT", bucket, key, async (_, token) =>
        {
            try
            {
                await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = serverUploadId }, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
            {
                throw new NotSupportedException($"{Name} does not support AbortMultipartUpload (HTTP {(int)ex.StatusCode})", ex);
            }
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ValidateNames(bucket, key);
        return ExecuteAsync("DELETE", bucket, key, async (_, token) =>
        {
            try
            {
                await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = key }, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
            }
            return true;
        }, cancellationToken);
    }

    // ---- buckets and open uploads ----

    /// <inheritdoc />
    public Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default)
        => ExecuteAsync<IReadOnlyList<BucketInfo>>("LISTBUCKETS", "", "", async (_, token) =>
        {
            ListBucketsResponse response = await _client.ListBucketsAsync(new ListBucketsRequest(), token).ConfigureAwait(false);
            return [.. (response.Buckets ?? []).Select(b => new BucketInfo(b.BucketName, ToOffset(b.CreationDate))).OrderBy(b => b.Name, StringComparer.Ordinal)];
        }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateBucket(bucket);
        return ExecuteAsync("HEADBUCKET", bucket, "", async (_, token) =>
        {
            try
            {
                await _client.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }, token).ConfigureAwait(false);
                return true;
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The request carries no location constraint: the origin puts the bucket in the region its endpoint serves.</remarks>
    public Task CreateBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateBucket(bucket);
        return ExecuteAsync("CREATEBUCKET", bucket, "", async (_, token) =>
        {
            try
            {
                await _client.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when ((int)ex.StatusCode is >= 400 and < 500)
            {
                throw Refused(ex, "CREATEBUCKET", bucket);
            }
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateBucket(bucket);
        return ExecuteAsync("DELETEBUCKET", bucket, "", async (_, token) =>
        {
            try
            {
                await _client.DeleteBucketAsync(new DeleteBucketRequest { BucketName = bucket }, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ObjectNotFoundException(bucket, "", ex);
            }
            catch (AmazonS3Exception ex) when ((int)ex.StatusCode is >= 400 and < 500)
            {
                throw Refused(ex, "DELETEBUCKET", bucket);
            }
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<MultipartUploadPage> ListMultipartUploadsAsync(MultipartUploadListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        StoreKeys.ValidateBucket(request.Bucket);
        string bucket = request.Bucket;
        return ExecuteAsync("LISTUPLOADS", bucket, request.Prefix, async (_, token) =>
        {
            var list = new ListMultipartUploadsRequest
            {
                BucketName = bucket,
                Prefix = NullIfEmpty(request.Prefix),
                Delimiter = NullIfEmpty(request.Delimiter),
                KeyMarker = NullIfEmpty(request.KeyMarker),
                UploadIdMarker = NullIfEmpty(request.UploadIdMarker),
                MaxUploads = Math.Clamp(request.MaxUploads, 1, 1000),
            };
            ListMultipartUploadsResponse response;
            try
            {
                response = await _client.ListMultipartUploadsAsync(list, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ObjectNotFoundException(bucket, request.Prefix, ex);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
            {
                throw new NotSupportedException($"{Name} does not support ListMultipartUploads (HTTP {(int)ex.StatusCode})", ex);
            }
            bool truncated = response.IsTruncated ?? false;
            var uploads = (response.MultipartUploads ?? []).Select(u => new MultipartUploadInfo(u.Key, u.UploadId, ToOffset(u.Initiated))).ToList();
            return new MultipartUploadPage(uploads, response.CommonPrefixes ?? [], truncated)
            {
                NextKeyMarker = truncated ? NullIfEmpty(response.NextKeyMarker) : null,
                NextUploadIdMarker = truncated ? NullIfEmpty(response.NextUploadIdMarker) : null,
            };
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<PartPage> ListPartsAsync(string bucket, string key, string uploadId, int partNumberMarker, int maxParts, CancellationToken cancellationToken = default)
    {
        ValidateNames(bucket, key);
        (string serverUploadId, _) = ParseUploadId(uploadId);
        return ExecuteAsync("LISTPARTS", bucket, key, async (_, token) =>
        {
            var list = new ListPartsRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = serverUploadId,
                MaxParts = Math.Clamp(maxParts, 1, 1000),
                PartNumberMarker = partNumberMarker > 0 ? partNumberMarker.ToString(CultureInfo.InvariantCulture) : null,
            };
            ListPartsResponse response;
            try
            {
                response = await _client.ListPartsAsync(list, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                throw NoSuchUpload(bucket, key, uploadId, ex);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
            {
                throw new NotSupportedException($"{Name} does not support ListParts (HTTP {(int)ex.StatusCode})", ex);
            }
            var parts = (response.Parts ?? []).Select(p => new PartInfo(p.PartNumber ?? 0, p.ETag ?? "", p.Size ?? 0, ToOffset(p.LastModified))).ToList();
            bool truncated = response.IsTruncated ?? false;
            return new PartPage(parts, truncated, truncated ? response.NextPartNumberMarker ?? parts.LastOrDefault()?.PartNumber ?? 0 : 0);
        }, cancellationToken);
    }

    private OriginRefusedException Refused(AmazonS3Exception ex, string operation, string bucket)
        => new((int)ex.StatusCode, string.IsNullOrEmpty(ex.ErrorCode) ? ex.StatusCode.ToString() : ex.ErrorCode,
            $"{Name} {operation} {bucket}: {ex.Message}", ex);

    /// <summary>Disposes the SDK client when this store created it.</summary>
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
        _raw?.Dispose();
    }

    /// <summary>A truncated page must say where to go on, and somewhere new: otherwise paging would never end.</summary>
    private void CheckPaging(bool truncated, string? next, ListRequest request, string bucket)
    {
        if (truncated && next is null)
        {
            throw new OriginProtocolException($"{Name} LIST {bucket}/{request.Prefix}: the page is truncated but has no NextContinuationToken");
        }
        if (truncated && next == NullIfEmpty(request.ContinuationToken))
        {
            throw new OriginProtocolException($"{Name} LIST {bucket}/{request.Prefix}: NextContinuationToken repeats the token asked with, so paging would never end");
        }
    }

    // ---- shared steps ----

    /// <summary>Runs one operation under the retry policy and maps what is left of SDK errors to <see cref="ObjectStoreException"/>.</summary>
    private async Task<T> ExecuteAsync<T>(string operation, string bucket, string key, Func<int, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        string describe = $"{Name} {operation} {bucket}/{key}";
        try
        {
            return await _retry.ExecuteAsync(attempt, describe, e => LogRetry(_logger, Name, operation, bucket, key, e.FailedAttempt, e.MaxAttempts,
                e.Error.GetType().Name, RetryPolicy.Describe(e.Error), (long)e.Delay.TotalMilliseconds), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OriginUnavailableException or OriginProtocolException)
        {
            LogGaveUp(_logger, Name, operation, bucket, key, ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException)
        {
            for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
            {
                if (inner is CredentialsException credentials)
                {
                    throw new CredentialsException(credentials.Message, ex);
                }
            }
            throw new ObjectStoreException($"{describe} failed: {RetryPolicy.Describe(ex)}", ex);
        }
    }

    private async Task<GetObjectResponse> GetRangeAsync(string bucket, string key, string etag, long offset, long length, CancellationToken token)
    {
        var request = new GetObjectRequest
        {
            BucketName = bucket,
            Key = key,
            EtagToMatch = Quote(etag),
            ByteRange = new ByteRange(offset, offset + length - 1),
        };
        if (_endpoint.IsOss)
        {
            // Without it OSS answers an invalid range with 200 and the whole object.
            AddHeader(request, OssRangeBehaviorHeader, "standard");
        }
        try
        {
            return await _client.GetObjectAsync(request, token).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ObjectNotFoundException(bucket, key, ex);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new PreconditionFailedException(bucket, key, etag, ex);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new ArgumentOutOfRangeException($"range [{offset}, {offset + length}) lies outside {bucket}/{key} (HTTP 416)", ex);
        }
    }

    /// <summary>Accepts only 206 with exactly the range asked for; see the class remarks.</summary>
    // Returns the object's size from the Content-Range.
    private long CheckRangeResponse(GetObjectResponse response, string bucket, string key, string etag, long offset, long length)
    {
        long end = offset + length - 1;
        string what = $"{Name} GET {bucket}/{key} bytes {offset}-{end}";
        int status = (int)response.HttpStatusCode;
        if (status != 206)
        {
            throw new OriginProtocolException(status == 200
                ? $"{what}: expected HTTP 206, got 200 (the range was ignored and the whole object sent)"
                : $"{what}: expected HTTP 206, got {status}");
        }
        string? contentRange = response.ContentRange;
        if (!TryParseContentRange(contentRange, out long first, out long last, out long size))
        {
            throw new OriginProtocolException($"{what}: Content-Range '{contentRange}' is not 'bytes first-last/size'");
        }
        if (first == offset && last < end && last == size - 1)
        {
            throw new ArgumentOutOfRangeException($"range [{offset}, {offset + length}) lies outside {bucket}/{key} of size {size}", innerException: null);
        }
        if (first != offset || last != end)
        {
            throw new OriginProtocolException($"{what}: got Content-Range '{contentRange}'");
        }
        if (response.ContentLength > 0 && response.ContentLength != length)
        {
            throw new OriginProtocolException($"{what}: Content-Length is {response.ContentLength}, expected {length}");
        }
        if (!string.IsNullOrEmpty(response.ETag) && !StoreKeys.ETagEquals(response.ETag, etag))
        {
            // The server ignored If-Match and served another version.
            throw new PreconditionFailedException(bucket, key, etag);
        }
        return size;
    }

    /// <summary>Parses <c>bytes first-last/size</c> with a numeric size and first &lt;= last &lt; size.</summary>
    internal static bool TryParseContentRange(string? value, out long first, out long last, out long size)
    {
        first = last = size = 0;
        const string unit = "bytes ";
        if (value is null || !value.StartsWith(unit, StringComparison.Ordinal))
        {
            return false;
        }
        ReadOnlySpan<char> rest = value.AsSpan(unit.Length);
        int dash = rest.IndexOf('-');
        int slash = rest.IndexOf('/');
        if (dash <= 0 || slash <= dash + 1)
        {
            return false;
        }
        return long.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out first)
            && long.TryParse(rest[(dash + 1)..slash], NumberStyles.None, CultureInfo.InvariantCulture, out last)
            && long.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out size)
            && first <= last && last < size;
    }

    private async Task EnsureBodyEndedAsync(Stream body, string bucket, string key, long offset, long length, CancellationToken token)
    {
        byte[] probe = ArrayPool<byte>.Shared.Rent(1);
        try
        {
            if (await body.ReadAsync(probe.AsMemory(0, 1), token).ConfigureAwait(false) != 0)
            {
                throw new OriginProtocolException($"{Name} GET {bucket}/{key} bytes {offset}-{offset + length - 1}: the body is longer than {length} bytes");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(probe);
        }
    }

    private OriginProtocolException Truncated(string bucket, string key, long offset, long length, long received)
        => new($"{Name} GET {bucket}/{key} bytes {offset}-{offset + length - 1}: the body ended after {received} of {length} bytes");

    private UploadNotFoundException NoSuchUpload(string bucket, string key, string uploadId, Exception inner)
        => new($"{Name}: multipart upload {uploadId} of {bucket}/{key} does not exist (completed, aborted or never started)", inner);

    /// <summary>After a lost response: the object's ETag when it is the MD5 of <paramref name="content"/> (a single-part S3 ETag).</summary>
    private async Task<string?> FindOwnWriteAsync(string bucket, string key, ReadOnlyMemory<byte> content, CancellationToken token)
    {
        string? etag = await TryHeadETagAsync(bucket, key, token).ConfigureAwait(false);
        if (etag is null)
        {
            return null;
        }
        string md5 = Convert.ToHexStringLower(MD5.HashData(content.Span));
        return string.Equals(StoreKeys.NormalizeETag(etag), md5, StringComparison.OrdinalIgnoreCase) ? etag : null;
    }

    private async Task<string?> TryHeadETagAsync(string bucket, string key, CancellationToken token)
    {
        try
        {
            GetObjectMetadataResponse head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, token).ConfigureAwait(false);
            return head.ETag;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static (string ServerUploadId, bool CreateOnly) ParseUploadId(string uploadId)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadId);
        return uploadId.StartsWith(CreateOnlyUploadPrefix, StringComparison.Ordinal)
            ? (uploadId[CreateOnlyUploadPrefix.Length..], true)
            : (uploadId, false);
    }

    private static void ValidateNames(string bucket, string key)
    {
        StoreKeys.ValidateBucket(bucket);
        StoreKeys.ValidateKey(key);
    }

    private static void ValidateRead(string bucket, string key, string etag, long offset, long length)
    {
        ValidateNames(bucket, key);
        ArgumentException.ThrowIfNullOrEmpty(etag);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length > long.MaxValue - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), "offset + length overflows");
        }
    }

    /// <summary>Where <see cref="AddHeader"/> keeps the extra headers of a request (in the request's own state).</summary>
    internal const string ExtraHeadersState = "OssOrleans.ExtraHeaders";

    /// <summary>
    /// Adds a header that the request type has no property for. The SDK raises the handler after marshalling and
    /// before signing, so the header is sent and signed (checked against a local server).
    /// </summary>
    private static void AddHeader(AmazonWebServiceRequest request, string name, string value)
    {
        var internalRequest = (IAmazonWebServiceRequest)request;
        if (internalRequest.RequestState.TryGetValue(ExtraHeadersState, out object? existing) && existing is Dictionary<string, string> headers)
        {
            headers[name] = value;
            return;
        }
        headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [name] = value };
        internalRequest.RequestState[ExtraHeadersState] = headers;
        internalRequest.AddBeforeRequestHandler((_, e) =>
        {
            if (e is WebServiceRequestEventArgs args)
            {
                foreach (KeyValuePair<string, string> header in headers)
                {
                    args.Headers[header.Key] = header.Value;
                }
            }
        });
    }

    /// <summary>The extra headers <see cref="AddHeader"/> put on a request (for tests).</summary>
    internal static IReadOnlyDictionary<string, string> GetExtraHeaders(AmazonWebServiceRequest request)
        => ((IAmazonWebServiceRequest)request).RequestState.TryGetValue(ExtraHeadersState, out object? value) && value is Dictionary<string, string> headers
            ? headers
            : new Dictionary<string, string>();

    /// <summary>The SDK keeps only known headers; this copies OSS's CRC header into the response metadata.</summary>
    private static void CaptureOssHeaders(object sender, ResponseEventArgs e)
    {
        if (e is not WebServiceResponseEventArgs { Response.ResponseMetadata.Metadata: { } metadata, ResponseHeaders: { } headers })
        {
            return;
        }
        foreach (KeyValuePair<string, string> header in headers)
        {
            if (string.Equals(header.Key, Crc64Header, StringComparison.OrdinalIgnoreCase))
            {
                metadata[Crc64Header] = header.Value;
            }
        }
    }

    internal static ulong? ParseCrc64(ResponseMetadata? metadata)
        => metadata?.Metadata is { } values && values.TryGetValue(Crc64Header, out string? text)
            && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong crc)
            ? crc
            : null;

    private static string Quote(string etag) => "\"" + StoreKeys.NormalizeETag(etag) + "\"";

    private static MemoryStream AsStream(ReadOnlyMemory<byte> content)
        => MemoryMarshal.TryGetArray(content, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    private static DateTimeOffset ToOffset(DateTime? value) => value switch
    {
        null => default,
        { Kind: DateTimeKind.Local } local => new DateTimeOffset(local.ToUniversalTime()),
        { } other => new DateTimeOffset(DateTime.SpecifyKind(other, DateTimeKind.Utc)),
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
