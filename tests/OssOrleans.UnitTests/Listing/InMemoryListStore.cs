using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Listing;

/// <summary>
/// ListObjectsV2 over a sorted in-memory key list, with S3's semantics (prefix, delimiter, start-after, continuation
/// tokens, max-keys), for running the real partition lister without a network. Only listing is supported.
/// </summary>
internal sealed class InMemoryListStore(IReadOnlyList<string> sortedKeys) : IObjectStore
{
    private int _requests;
    private long _keysReturned;

    /// <summary>Keys and common prefixes returned over all requests.</summary>
    public long KeysReturned => Interlocked.Read(ref _keysReturned);

    public int Requests => Volatile.Read(ref _requests);

    public string Name => "memory";

    public Task<ListPage> ListPageAsync(ListRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _requests);
        var page = Page(request);
        Interlocked.Add(ref _keysReturned, page.Entries.Count + page.CommonPrefixes.Count);
        return Task.FromResult(page);
    }

    private ListPage Page(ListRequest request)
    {
        string prefix = request.Prefix;
        string? after = request.ContinuationToken ?? request.StartAfter;
        bool afterIsPrefix = request.ContinuationToken?.EndsWith('\u0001') ?? false;
        if (afterIsPrefix)
            after = after![..^1];
        int i = LowerBound(prefix);
        if (after is not null)
            i = Math.Max(i, afterIsPrefix ? AfterPrefix(after) : UpperBound(after));
        var entries = new List<ListEntry>();
        var prefixes = new List<string>();
        string? last = null;
        bool lastIsPrefix = false, truncated = false;
        while (i < sortedKeys.Count && sortedKeys[i].StartsWith(prefix, StringComparison.Ordinal))
        {
            if (entries.Count + prefixes.Count >= request.MaxKeys)
            {
                truncated = true;
                break;
            }
            string key = sortedKeys[i];
            if (request.Delimiter is { } d)
            {
                int at = key.IndexOf(d, prefix.Length, StringComparison.Ordinal);
                if (at >= 0)
                {
                    string cp = key[..(at + d.Length)];
                    i = AfterPrefix(cp);
                    if (after is not null && KeyOrder.Compare(cp, after) <= 0)
                        continue;
                    prefixes.Add(cp);
                    (last, lastIsPrefix) = (cp, true);
                    continue;
                }
            }
            entries.Add(new ListEntry(key, 1, "\"etag\"", DateTimeOffset.UnixEpoch));
            (last, lastIsPrefix) = (key, false);
            i++;
        }
        string? token = truncated ? last + (lastIsPrefix ? "\u0001" : "") : null;
        return new ListPage(entries, prefixes, truncated, token);
    }

    private int LowerBound(string value) => Search(value, inclusive: true);

    private int UpperBound(string value) => Search(value, inclusive: false);

    // The first index whose key does not start with the prefix and sorts after it.
    private int AfterPrefix(string prefix)
    {
        // Keys with the prefix form one run from LowerBound(prefix): binary-search its end.
        int lo = LowerBound(prefix), hi = sortedKeys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sortedKeys[mid].StartsWith(prefix, StringComparison.Ordinal))
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    private int Search(string value, bool inclusive)
    {
        int lo = 0, hi = sortedKeys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = KeyOrder.Compare(sortedKeys[mid], value);
            if (c < 0 || (!inclusive && c == 0))
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    public Task<ObjectMetadata> HeadAsync(string bucket, string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<long> ReadRangeAsync(string bucket, string key, string etag, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task CopyRangeToAsync(string bucket, string key, string etag, long offset, long length, Stream destination, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<PutResult> PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, PutOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<string> InitiateMultipartAsync(string bucket, string key, PutOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<UploadedPart> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<PutResult> CompleteMultipartAsync(string bucket, string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task AbortMultipartAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task CreateBucketAsync(string bucket, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task DeleteBucketAsync(string bucket, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<MultipartUploadPage> ListMultipartUploadsAsync(MultipartUploadListRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<PartPage> ListPartsAsync(string bucket, string key, string uploadId, int partNumberMarker, int maxParts, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
