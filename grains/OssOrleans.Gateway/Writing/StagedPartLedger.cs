using System.Collections.Concurrent;

namespace OssOrleans.Gateway.Writing;

/// <summary>
/// The receipts of the parts this silo received for multipart uploads still in progress, so that completing an upload
/// through this silo hands the staged bytes to the new version's shards (write-through). S3 clients send back only part
/// numbers and ETags; sizes and places come from the origin and from the receipts, which the cluster signed. A part
/// uploaded again replaces its receipts. Bounded: the oldest uploads are forgotten first (their parts are then read from
/// the origin after completion, as any other object's).
/// </summary>
internal sealed class StagedPartLedger
{
    internal const int MaxUploads = 4096;

    private readonly ConcurrentDictionary<string, Upload> _uploads = new(StringComparer.Ordinal);
    private long _clock;

    public void Record(string bucket, string key, string uploadId, int partNumber, PartAnswer answer)
    {
        var upload = _uploads.GetOrAdd(Key(bucket, key, uploadId), _ => new Upload());
        upload.Touched = Interlocked.Increment(ref _clock);
        upload.Parts[partNumber] = answer;
        if (_uploads.Count > MaxUploads)
        {
            foreach (var oldest in _uploads.OrderBy(u => u.Value.Touched).Take(_uploads.Count - MaxUploads).ToList())
                _uploads.TryRemove(oldest.Key, out _);
        }
    }

    /// <summary>The receipts of the given parts, as recorded for this upload (parts with another ETag are left out).</summary>
    public StagedShard[] Receipts(string bucket, string key, string uploadId, IEnumerable<(int PartNumber, string ETag)> parts)
    {
        if (!_uploads.TryGetValue(Key(bucket, key, uploadId), out var upload))
            return [];
        var receipts = new List<StagedShard>();
        foreach (var (number, etag) in parts)
        {
            if (upload.Parts.TryGetValue(number, out var answer) && Storage.StoreKeys.ETagEquals(answer.ETag, etag))
                receipts.AddRange(answer.Staged);
        }
        return [.. receipts];
    }

    /// <summary>Part sizes as this silo received them (for an origin that cannot list parts); null when a part was not received here.</summary>
    public long? SizeOf(string bucket, string key, string uploadId, int partNumber, string etag) =>
        _uploads.TryGetValue(Key(bucket, key, uploadId), out var upload) && upload.Parts.TryGetValue(partNumber, out var answer)
            && Storage.StoreKeys.ETagEquals(answer.ETag, etag) && answer.Staged.Length > 0
            ? answer.Staged[0].PartLength
            : null;

    public void Forget(string bucket, string key, string uploadId) => _uploads.TryRemove(Key(bucket, key, uploadId), out _);

    private static string Key(string bucket, string key, string uploadId) => string.Concat(bucket, "\n", uploadId, "\n", key);

    private sealed class Upload
    {
        public ConcurrentDictionary<int, PartAnswer> Parts { get; } = new();

        public long Touched { get; set; }
    }
}
