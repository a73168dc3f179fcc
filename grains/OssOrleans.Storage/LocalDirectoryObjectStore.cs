using System.Buffers;
using System.Buffers.Text;
using System.IO.Enumeration;
using System.Text;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace OssOrleans.Storage;

/// <summary>
/// An object store in a local directory: the embedded default origin and a fast store for tests.
/// Layout: <c>root/&lt;bucket&gt;/&lt;key&gt;</c>, with '/' in keys as the directory separator.
/// Buckets are created by the first write; reading from a missing bucket is <see cref="ObjectNotFoundException"/>.
/// </summary>
/// <remarks>
/// <para>Writes go to a temporary file under <c>root/.staging</c> and are then renamed into place, so a reader
/// sees a whole object or none. Bucket names cannot start with '.', so the staging folders are never buckets.
/// A create-only write links the staged file to its name (link(2) fails if the name exists), so of racing
/// create-only writers exactly one wins, in this process or another.</para>
/// <para>ETag: <c>"&lt;length hex&gt;-&lt;mtime ticks hex&gt;"</c>. Every write of this store stamps the file with
/// a last-write time that is unique and increasing within the process, so each write gets a new ETag without
/// hashing the content. Files written by others get whatever time their writer left, which changes with
/// every ordinary rewrite except on filesystems with coarse timestamps.</para>
/// <para>Limits: a key and a longer key below it ("a" and "a/b") cannot both exist, because "a" cannot be
/// a file and a folder; such a write fails with <see cref="ObjectStoreException"/>. Listing reads the
/// folder below the prefix and sorts it, which is fine for the sizes this store is meant for.
/// Writes are not flushed to disk (no fsync) before the rename. Content types are not kept, and
/// <see cref="ObjectMetadata.Crc64"/> is not given. Uploads never completed nor aborted stay under
/// <c>root/.uploads</c>, as incomplete uploads stay in S3.</para>
/// </remarks>
public sealed class LocalDirectoryObjectStore : IObjectStore
{
    private const string StagingFolder = ".staging";
    private const string UploadsFolder = ".uploads";
    private const string UploadManifest = "upload.json";
    private const int MaxPartNumber = 10_000;
    // The copy buffer size of Stream.CopyTo, below the large object heap threshold.
    private const int CopyBufferSize = 81_920;

    private static long s_lastStampTicks;

    private readonly string _root;
    private readonly string _staging;
    private readonly string _uploads;

    /// <summary>Opens (and creates when missing) a store over <paramref name="rootPath"/>.</summary>
    public LocalDirectoryObjectStore(string rootPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootPath));
        _staging = Path.Join(_root, StagingFolder);
        _uploads = Path.Join(_root, UploadsFolder);
        Directory.CreateDirectory(_staging);
        Directory.CreateDirectory(_uploads);
        RemoveStaleStagingFiles(_staging);
    }

    /// <inheritdoc />
    public string Name => "local:" + _root;

    /// <summary>The root folder.</summary>
    public string RootPath => _root;

    /// <inheritdoc />
    public Task<ObjectMetadata> HeadAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        string path = ObjectPath(bucket, key);
        cancellationToken.ThrowIfCancellationRequested();
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ObjectNotFoundException(bucket, key);
        }
        DateTime lastWrite = info.LastWriteTimeUtc;
        return Task.FromResult(new ObjectMetadata(key, info.Length, FormatETag(info.Length, lastWrite), new DateTimeOffset(lastWrite)));
    }

    /// <inheritdoc />
    /// <remarks>A range outside the object is an <see cref="ArgumentOutOfRangeException"/>. A zero-length read does nothing.</remarks>
    public async Task<long> ReadRangeAsync(string bucket, string key, string etag, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        string path = ObjectPath(bucket, key);
        ArgumentNullException.ThrowIfNull(etag);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            return -1;
        }
        using SafeFileHandle handle = OpenForRead(path, bucket, key);
        long size = CheckVersion(handle, bucket, key, etag, offset, destination.Length);
        int filled = 0;
        while (filled < destination.Length)
        {
            int n = await RandomAccess.ReadAsync(handle, destination[filled..], offset + filled, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new OriginProtocolException($"{Name}: {bucket}/{key} ended after {filled} of {destination.Length} bytes at offset {offset} (size {size})");
            }
            filled += n;
        }
        return size;
    }

    /// <inheritdoc />
    public async Task CopyRangeToAsync(string bucket, string key, string etag, long offset, long length, Stream destination, CancellationToken cancellationToken = default)
    {
        string path = ObjectPath(bucket, key);
        ArgumentNullException.ThrowIfNull(etag);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return;
        }
        using SafeFileHandle handle = OpenForRead(path, bucket, key);
        CheckVersion(handle, bucket, key, etag, offset, length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CopyBufferSize, length));
        try
        {
            long copied = 0;
            while (copied < length)
            {
                int want = (int)Math.Min(buffer.Length, length - copied);
                int n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, want), offset + copied, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new OriginProtocolException($"{Name}: {bucket}/{key} ended after {copied} of {length} bytes at offset {offset}");
                }
                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                copied += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The continuation token is opaque (base64url of the last key or common prefix returned). When a
    /// continuation token is given, <see cref="ListRequest.StartAfter"/> is ignored, as in S3.
    /// A missing bucket is <see cref="ObjectNotFoundException"/>.
    /// </remarks>
    public Task<ListPage> ListPageAsync(ListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        StoreKeys.ValidateBucket(request.Bucket);
        ArgumentNullException.ThrowIfNull(request.Prefix, nameof(request.Prefix));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.MaxKeys, nameof(request.MaxKeys));
        int maxKeys = Math.Min(request.MaxKeys, 1000);
        string prefix = request.Prefix;
        string? delimiter = string.IsNullOrEmpty(request.Delimiter) ? null : request.Delimiter;
        Marker? marker = !string.IsNullOrEmpty(request.ContinuationToken) ? Marker.Decode(request.ContinuationToken)
            : string.IsNullOrEmpty(request.StartAfter) ? null : new Marker(request.StartAfter, IsPrefix: false);

        string bucketDir = Path.Join(_root, request.Bucket);
        if (!Directory.Exists(bucketDir))
        {
            throw new ObjectNotFoundException(request.Bucket, prefix);
        }
        List<ListEntry> candidates = CollectUnder(bucketDir, prefix, cancellationToken);
        candidates.Sort((a, b) => Utf8OrdinalComparer.Instance.Compare(a.Key, b.Key));

        var entries = new List<ListEntry>();
        var commonPrefixes = new List<string>();
        string? lastReturned = null;
        bool lastWasPrefix = false;
        bool truncated = false;
        foreach (ListEntry candidate in candidates)
        {
            string key = candidate.Key;
            if (marker is { } m && (Utf8OrdinalComparer.Instance.Compare(key, m.Value) <= 0
                || (m.IsPrefix && key.StartsWith(m.Value, StringComparison.Ordinal))))
            {
                continue;
            }
            string? commonPrefix = null;
            if (delimiter is not null)
            {
                int at = key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                if (at >= 0)
                {
                    commonPrefix = key[..(at + delimiter.Length)];
                }
            }
            if (commonPrefix is not null && lastWasPrefix && commonPrefix == lastReturned)
            {
                continue; // keys under one common prefix are contiguous in this order
            }
            if (entries.Count + commonPrefixes.Count == maxKeys)
            {
                truncated = true;
                break;
            }
            if (commonPrefix is not null)
            {
                commonPrefixes.Add(commonPrefix);
                lastReturned = commonPrefix;
                lastWasPrefix = true;
            }
            else
            {
                entries.Add(candidate);
                lastReturned = key;
                lastWasPrefix = false;
            }
        }
        string? next = truncated ? new Marker(lastReturned!, lastWasPrefix).Encode() : null;
        return Task.FromResult(new ListPage(entries, commonPrefixes, truncated, next));
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        string target = ObjectPath(bucket, key);
        string temp = NewStagingPath();
        try
        {
            await WriteNewFileAsync(temp, content, cancellationToken).ConfigureAwait(false);
            return new PutResult(Publish(temp, target, bucket, key, options?.CreateOnly ?? false));
        }
        finally
        {
            TryDeleteFile(temp);
        }
    }

    /// <inheritdoc />
    /// <remarks>Upload ids are 32 lowercase hex digits; parts live under <c>root/.uploads/&lt;uploadId&gt;</c> until completed or aborted.</remarks>
    public async Task<string> InitiateMultipartAsync(string bucket, string key, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectPath(bucket, key);
        string uploadId = Guid.NewGuid().ToString("N");
        string dir = Path.Join(_uploads, uploadId);
        Directory.CreateDirectory(dir);
        var manifest = new UploadInfo(bucket, key, options?.CreateOnly ?? false);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(manifest, UploadInfoJson.Default.UploadInfo);
        await File.WriteAllBytesAsync(Path.Join(dir, UploadManifest), json, cancellationToken).ConfigureAwait(false);
        return uploadId;
    }

    /// <inheritdoc />
    public async Task<UploadedPart> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partNumber, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partNumber, MaxPartNumber);
        string dir = await OpenUploadAsync(bucket, key, uploadId, cancellationToken).ConfigureAwait(false);
        string temp = NewStagingPath();
        try
        {
            await WriteNewFileAsync(temp, content, cancellationToken).ConfigureAwait(false);
            DateTime stamp = StampUnique(temp);
            File.Move(temp, PartPath(dir, partNumber), overwrite: true);
            return new UploadedPart(partNumber, FormatETag(content.Length, stamp), content.Length);
        }
        finally
        {
            TryDeleteFile(temp);
        }
    }

    /// <inheritdoc />
    /// <remarks>Parts must be listed in strictly ascending part number, each with the ETag its upload returned.</remarks>
    public async Task<PutResult> CompleteMultipartAsync(string bucket, string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parts);
        string target = ObjectPath(bucket, key);
        string dir = await OpenUploadAsync(bucket, key, uploadId, cancellationToken).ConfigureAwait(false);
        UploadInfo info = await ReadUploadInfoAsync(dir, uploadId, cancellationToken).ConfigureAwait(false);
        if (parts.Count == 0)
        {
            throw new ArgumentException("a multipart upload needs at least one part", nameof(parts));
        }
        var partFiles = new string[parts.Count];
        for (int i = 0; i < parts.Count; i++)
        {
            UploadedPart part = parts[i];
            if (i > 0 && part.PartNumber <= parts[i - 1].PartNumber)
            {
                throw new ArgumentException($"parts must be in strictly ascending part number (part {part.PartNumber} follows {parts[i - 1].PartNumber})", nameof(parts));
            }
            string partFile = PartPath(dir, part.PartNumber);
            var partInfo = new FileInfo(partFile);
            if (!partInfo.Exists)
            {
                throw new ArgumentException($"part {part.PartNumber} of upload {uploadId} was not uploaded", nameof(parts));
            }
            if (!StoreKeys.ETagEquals(part.ETag, FormatETag(partInfo.Length, partInfo.LastWriteTimeUtc)))
            {
                throw new ArgumentException($"part {part.PartNumber} of upload {uploadId} has a different ETag than {part.ETag}", nameof(parts));
            }
            partFiles[i] = partFile;
        }

        string temp = NewStagingPath();
        try
        {
            var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            await using (var output = new FileStream(temp, streamOptions))
            {
                foreach (string partFile in partFiles)
                {
                    await using var input = new FileStream(partFile, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    await input.CopyToAsync(output, CopyBufferSize, cancellationToken).ConfigureAwait(false);
                }
            }
            string etag = Publish(temp, target, bucket, key, info.CreateOnly);
            TryDeleteDirectory(dir);
            return new PutResult(etag);
        }
        finally
        {
            TryDeleteFile(temp);
        }
    }

    /// <inheritdoc />
    /// <remarks>Aborting an upload that is already gone is not an error.</remarks>
    public Task AbortMultipartAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken = default)
    {
        ObjectPath(bucket, key);
        string dir = UploadPath(uploadId);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        string path = ObjectPath(bucket, key);
        if (Directory.Exists(path))
        {
            return Task.CompletedTask; // a folder of longer keys, not an object
        }
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask;
        }
        PruneEmptyFolders(Path.GetDirectoryName(path)!, Path.Join(_root, bucket));
        return Task.CompletedTask;
    }

    // ---- buckets and open uploads ----

    /// <inheritdoc />
    /// <remarks>Every folder under the root whose name is a bucket name; its creation date is the folder's.</remarks>
    public Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default)
    {
        var buckets = new List<BucketInfo>();
        foreach (var dir in new DirectoryInfo(_root).EnumerateDirectories())
        {
            if (!IsBucketName(dir.Name))
            {
                continue;
            }
            buckets.Add(new BucketInfo(dir.Name, new DateTimeOffset(dir.CreationTimeUtc)));
        }
        buckets.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Task.FromResult<IReadOnlyList<BucketInfo>>(buckets);
    }

    /// <inheritdoc />
    public Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateBucket(bucket);
        return Task.FromResult(Directory.Exists(Path.Join(_root, bucket)));
    }

    /// <inheritdoc />
    /// <remarks>An existing bucket is refused as S3 refuses it to its owner (409 BucketAlreadyOwnedByYou).</remarks>
    public Task CreateBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateBucket(bucket);
        string dir = Path.Join(_root, bucket);
        if (Directory.Exists(dir))
        {
            throw new OriginRefusedException(409, "BucketAlreadyOwnedByYou", $"{Name}: bucket {bucket} already exists");
        }
        Directory.CreateDirectory(dir);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Uploads in progress into the bucket do not keep it; they fail when completed.</remarks>
    public Task DeleteBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidateBucket(bucket);
        string dir = Path.Join(_root, bucket);
        if (!Directory.Exists(dir))
        {
            throw new ObjectNotFoundException(bucket, "");
        }
        if (Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw new OriginRefusedException(409, "BucketNotEmpty", $"{Name}: bucket {bucket} is not empty");
        }
        try
        {
            Directory.Delete(dir, recursive: false);
        }
        catch (IOException ex)
        {
            // An object written meanwhile.
            throw new OriginRefusedException(409, "BucketNotEmpty", $"{Name}: bucket {bucket} is not empty", ex);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads every manifest under <c>root/.uploads</c>: fine for the uploads a local store has in progress at once. Uploads
    /// of one key are in upload id order, as S3's upload-id-marker assumes.
    /// </remarks>
    public async Task<MultipartUploadPage> ListMultipartUploadsAsync(MultipartUploadListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        StoreKeys.ValidateBucket(request.Bucket);
        if (!Directory.Exists(Path.Join(_root, request.Bucket)))
        {
            throw new ObjectNotFoundException(request.Bucket, request.Prefix);
        }
        string prefix = request.Prefix ?? "";
        string? delimiter = string.IsNullOrEmpty(request.Delimiter) ? null : request.Delimiter;
        var found = new List<MultipartUploadInfo>();
        foreach (var dir in new DirectoryInfo(_uploads).EnumerateDirectories())
        {
            UploadInfo info;
            try
            {
                info = await ReadUploadInfoAsync(dir.FullName, dir.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectStoreException)
            {
                continue; // completed or aborted while this ran
            }
            if (info.Bucket == request.Bucket && info.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                found.Add(new MultipartUploadInfo(info.Key, dir.Name, new DateTimeOffset(dir.CreationTimeUtc)));
            }
        }
        found.Sort((a, b) =>
        {
            int c = Utf8OrdinalComparer.Instance.Compare(a.Key, b.Key);
            return c != 0 ? c : string.CompareOrdinal(a.UploadId, b.UploadId);
        });

        int max = Math.Clamp(request.MaxUploads, 1, 1000);
        var uploads = new List<MultipartUploadInfo>();
        var prefixes = new List<string>();
        string? lastKey = null, lastUploadId = null;
        bool truncated = false;
        foreach (var u in found)
        {
            if (!string.IsNullOrEmpty(request.KeyMarker))
            {
                int c = Utf8OrdinalComparer.Instance.Compare(u.Key, request.KeyMarker);
                if (c < 0 || (c == 0 && (string.IsNullOrEmpty(request.UploadIdMarker) || string.CompareOrdinal(u.UploadId, request.UploadIdMarker) <= 0)))
                {
                    continue;
                }
            }
            string? common = null;
            if (delimiter is not null)
            {
                int at = u.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                if (at >= 0)
                {
                    common = u.Key[..(at + delimiter.Length)];
                }
            }
            if (common is not null && prefixes.Count > 0 && prefixes[^1] == common)
            {
                continue;
            }
            if (uploads.Count + prefixes.Count == max)
            {
                truncated = true;
                break;
            }
            if (common is not null)
            {
                prefixes.Add(common);
                (lastKey, lastUploadId) = (common, null);
            }
            else
            {
                uploads.Add(u);
                (lastKey, lastUploadId) = (u.Key, u.UploadId);
            }
        }
        return new MultipartUploadPage(uploads, prefixes, truncated)
        {
            NextKeyMarker = truncated ? lastKey : null,
            NextUploadIdMarker = truncated ? lastUploadId : null,
        };
    }

    /// <inheritdoc />
    public async Task<PartPage> ListPartsAsync(string bucket, string key, string uploadId, int partNumberMarker, int maxParts, CancellationToken cancellationToken = default)
    {
        string dir = await OpenUploadAsync(bucket, key, uploadId, cancellationToken).ConfigureAwait(false);
        var parts = new List<PartInfo>();
        foreach (var file in new DirectoryInfo(dir).EnumerateFiles("*.part"))
        {
            if (int.TryParse(Path.GetFileNameWithoutExtension(file.Name), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
                && number > partNumberMarker)
            {
                parts.Add(new PartInfo(number, FormatETag(file.Length, file.LastWriteTimeUtc), file.Length, new DateTimeOffset(file.LastWriteTimeUtc)));
            }
        }
        parts.Sort((a, b) => a.PartNumber.CompareTo(b.PartNumber));
        int max = Math.Clamp(maxParts, 1, 1000);
        bool truncated = parts.Count > max;
        if (truncated)
        {
            parts.RemoveRange(max, parts.Count - max);
        }
        return new PartPage(parts, truncated, truncated ? parts[^1].PartNumber : 0);
    }

    private static bool IsBucketName(string name)
    {
        try
        {
            StoreKeys.ValidateBucket(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // ---- paths ----

    private string ObjectPath(string bucket, string key)
    {
        StoreKeys.ValidateBucket(bucket);
        StoreKeys.ValidatePathKey(key);
        string bucketDir = Path.Join(_root, bucket);
        string path = Path.GetFullPath(Path.Join(bucketDir, Path.DirectorySeparatorChar == '/' ? key : key.Replace('/', Path.DirectorySeparatorChar)));
        // Defence in depth: the checks above already make this impossible.
        if (!path.StartsWith(bucketDir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException("key leaves the bucket folder", nameof(key));
        }
        return path;
    }

    private string UploadPath(string uploadId)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (uploadId.Length != 32 || !uploadId.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException("not an upload id of this store", nameof(uploadId));
        }
        return Path.Join(_uploads, uploadId);
    }

    private static string PartPath(string uploadDir, int partNumber) => Path.Join(uploadDir, partNumber.ToString("D5", System.Globalization.CultureInfo.InvariantCulture) + ".part");

    private string NewStagingPath() => Path.Join(_staging, Guid.NewGuid().ToString("N") + ".tmp");

    // Another object's upload, or an id this store never made, is no upload of this object: as S3 says, NoSuchUpload.
    private async Task<string> OpenUploadAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken)
    {
        ObjectPath(bucket, key);
        string dir;
        try
        {
            dir = UploadPath(uploadId);
        }
        catch (ArgumentException ex)
        {
            throw new UploadNotFoundException($"{Name}: {uploadId} is not an upload id of this store", ex);
        }
        UploadInfo info = await ReadUploadInfoAsync(dir, uploadId, cancellationToken).ConfigureAwait(false);
        if (info.Bucket != bucket || info.Key != key)
        {
            throw new UploadNotFoundException($"{Name}: upload {uploadId} belongs to another object than {bucket}/{key}");
        }
        return dir;
    }

    private async Task<UploadInfo> ReadUploadInfoAsync(string dir, string uploadId, CancellationToken cancellationToken)
    {
        byte[] json;
        try
        {
            json = await File.ReadAllBytesAsync(Path.Join(dir, UploadManifest), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UploadNotFoundException($"{Name}: multipart upload {uploadId} does not exist (completed, aborted or never started)", ex);
        }
        return JsonSerializer.Deserialize(json, UploadInfoJson.Default.UploadInfo)
            ?? throw new ObjectStoreException($"{Name}: multipart upload {uploadId} has an empty manifest");
    }

    // ---- reads ----

    private static SafeFileHandle OpenForRead(string path, string bucket, string key)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException
            || (ex is UnauthorizedAccessException && Directory.Exists(path)))
        {
            throw new ObjectNotFoundException(bucket, key, ex);
        }
    }

    /// <summary>Checks the ETag and the range against the open file (the version this handle reads, whatever is renamed over it later).</summary>
    private static long CheckVersion(SafeFileHandle handle, string bucket, string key, string etag, long offset, long length)
    {
        long size = RandomAccess.GetLength(handle);
        string actual = FormatETag(size, File.GetLastWriteTimeUtc(handle));
        if (!StoreKeys.ETagEquals(actual, etag))
        {
            throw new PreconditionFailedException(bucket, key, etag);
        }
        if (offset > size || length > size - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, {offset + length}) lies outside {bucket}/{key} of size {size}");
        }
        return size;
    }

    private List<ListEntry> CollectUnder(string bucketDir, string prefix, CancellationToken cancellationToken)
    {
        var found = new List<ListEntry>();
        // Start in the deepest folder the prefix names, so a listing does not walk the whole bucket.
        string startDir = bucketDir;
        int slash = prefix.LastIndexOf('/');
        if (slash > 0)
        {
            string folder = prefix[..slash];
            try
            {
                StoreKeys.ValidatePathKey(folder);
            }
            catch (ArgumentException)
            {
                return found; // no stored key can have such a folder
            }
            startDir = Path.Join(bucketDir, folder);
            if (!Directory.Exists(startDir))
            {
                return found;
            }
        }
        int rootLength = bucketDir.Length + 1;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = 0, // on Unix, names starting with '.' count as hidden; they are ordinary keys here
            ReturnSpecialDirectories = false,
        };
        var enumerable = new FileSystemEnumerable<ListEntry>(startDir, (ref FileSystemEntry entry) =>
        {
            string key = entry.ToFullPath()[rootLength..];
            if (Path.DirectorySeparatorChar != '/')
            {
                key = key.Replace(Path.DirectorySeparatorChar, '/');
            }
            DateTime lastWrite = entry.LastWriteTimeUtc.UtcDateTime;
            return new ListEntry(key, entry.Length, FormatETag(entry.Length, lastWrite), new DateTimeOffset(lastWrite));
        }, options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        foreach (ListEntry entry in enumerable)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                found.Add(entry);
            }
        }
        return found;
    }

    // ---- writes ----

    private static async Task WriteNewFileAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            PreallocationSize = content.Length,
        };
        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stamps the staged file and renames it to <paramref name="target"/>; returns the new ETag.</summary>
    private string Publish(string temp, string target, string bucket, string key, bool createOnly)
    {
        long length = new FileInfo(temp).Length;
        DateTime stamp = StampUnique(temp);
        string etag = FormatETag(length, stamp);
        if (Directory.Exists(target))
        {
            throw new ObjectStoreException($"{Name}: cannot store {bucket}/{key}: longer keys below it exist, and a local folder cannot also be an object");
        }
        // A concurrent delete may prune the parent folder between creating it and the rename; try again then.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                if (createOnly)
                {
                    MoveNoReplace(temp, target, bucket, key);
                }
                else
                {
                    File.Move(temp, target, overwrite: true); // rename(2): atomic replace
                }
                return etag;
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
            }
            catch (IOException ex) when (ex is not DirectoryNotFoundException && ParentIsFile(target, bucket))
            {
                throw new ObjectStoreException($"{Name}: cannot store {bucket}/{key}: a shorter key above it is an object, and a local file cannot also be a folder", ex);
            }
        }
    }

    /// <summary>
    /// Renames <paramref name="temp"/> to <paramref name="target"/> only if the target does not exist, atomically.
    /// File.Move(overwrite: false) checks and then renames on Unix, and lost a race 16 writers ran here, so this
    /// uses link(2), which fails with EEXIST when the target exists. Windows' MoveFileEx without
    /// MOVEFILE_REPLACE_EXISTING is atomic already. On a filesystem without hard links it falls back to File.Move.
    /// </summary>
    private static void MoveNoReplace(string temp, string target, string bucket, string key)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(temp, target, overwrite: false);
                return;
            }
            catch (IOException ex) when (File.Exists(target))
            {
                throw new ObjectAlreadyExistsException(bucket, key, ex);
            }
        }
        if (NativeMethods.Link(temp, target) == 0)
        {
            File.Delete(temp);
            return;
        }
        int errno = Marshal.GetLastPInvokeError();
        switch (errno)
        {
            case NativeMethods.EEXIST:
                throw new ObjectAlreadyExistsException(bucket, key);
            case NativeMethods.ENOENT:
                throw new DirectoryNotFoundException($"folder of {bucket}/{key} is gone");
            default:
                try
                {
                    File.Move(temp, target, overwrite: false);
                }
                catch (IOException ex) when (File.Exists(target))
                {
                    throw new ObjectAlreadyExistsException(bucket, key, ex);
                }
                break;
        }
    }

    private static class NativeMethods
    {
        public const int ENOENT = 2;
        public const int EEXIST = 17; // the same on Linux and macOS

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        public static extern int Link(string existingPath, string newPath);
    }

    private bool ParentIsFile(string target, string bucket)
    {
        string bucketDir = Path.Join(_root, bucket);
        for (string? dir = Path.GetDirectoryName(target); dir is not null && dir.Length > bucketDir.Length; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(dir))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Sets a last-write time unique and increasing within this process, so every write gets a new ETag.</summary>
    private static DateTime StampUnique(string path)
    {
        long now = DateTime.UtcNow.Ticks;
        long last = Volatile.Read(ref s_lastStampTicks);
        long stamp;
        while (true)
        {
            stamp = Math.Max(now, last + 1);
            long seen = Interlocked.CompareExchange(ref s_lastStampTicks, stamp, last);
            if (seen == last)
            {
                break;
            }
            last = seen;
        }
        var time = new DateTime(stamp, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, time);
        return time;
    }

    private static string FormatETag(long length, DateTime lastWriteUtc)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"{length:x}-{lastWriteUtc.Ticks:x}\"");

    private static void PruneEmptyFolders(string folder, string bucketDir)
    {
        for (string? dir = folder; dir is not null && dir.Length > bucketDir.Length; dir = Path.GetDirectoryName(dir))
        {
            try
            {
                Directory.Delete(dir, recursive: false);
            }
            catch (IOException)
            {
                return; // not empty, or already gone
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    /// <summary>Removes temporary files a crashed writer left behind (older than an hour, so no live write is hit).</summary>
    private static void RemoveStaleStagingFiles(string staging)
    {
        DateTime cutoff = DateTime.UtcNow - TimeSpan.FromHours(1);
        foreach (string file in Directory.EnumerateFiles(staging, "*.tmp"))
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff)
            {
                TryDeleteFile(file);
            }
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A resume point: the last key or common prefix a page returned.</summary>
    private readonly record struct Marker(string Value, bool IsPrefix)
    {
        public string Encode()
        {
            byte[] bytes = Encoding.UTF8.GetBytes((IsPrefix ? "p" : "k") + Value);
            return Base64Url.EncodeToString(bytes);
        }

        public static Marker Decode(string token)
        {
            try
            {
                string text = new UTF8Encoding(false, true).GetString(Base64Url.DecodeFromChars(token));
                if (text.Length >= 2 && text[0] is 'k' or 'p')
                {
                    return new Marker(text[1..], text[0] == 'p');
                }
            }
            catch (FormatException)
            {
            }
            catch (ArgumentException)
            {
            }
            throw new ArgumentException("continuation token was not issued by this store", nameof(token));
        }
    }
}

internal sealed record UploadInfo(string Bucket, string Key, bool CreateOnly);

[System.Text.Json.Serialization.JsonSerializable(typeof(UploadInfo))]
internal sealed partial class UploadInfoJson : System.Text.Json.Serialization.JsonSerializerContext;
