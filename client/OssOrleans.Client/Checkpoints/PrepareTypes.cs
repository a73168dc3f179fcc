namespace OssOrleans.Client;

/// <summary>Options of <see cref="OssCacheClient.PrepareDirectoryAsync"/>.</summary>
public sealed class PrepareOptions
{
    /// <summary>
    /// Shards fetched from the cluster at once, over all files (each is written to its place in its file as it arrives).
    /// Default 8: with 8 MiB shards at 100 MB/s per origin connection that is more than a 500 MB/s origin gives, and it
    /// stays within the client's pool of shard buffers (2 x ReadAheadShards + 2), so no fetch pays for fresh pages. The
    /// client holds at most this many shard buffers.
    /// </summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>List the prefix with a fast list (partitions in parallel across the cluster). Default true; false pages sequentially.</summary>
    public bool FastList { get; set; } = true;

    /// <summary>How often progress is reported at most. Default 100 ms.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    internal void Validate()
    {
        if (Concurrency is < 1 or > 256)
            throw new ArgumentException($"PrepareOptions.Concurrency: must be between 1 and 256 (got {Concurrency})");
        if (ProgressInterval < TimeSpan.Zero)
            throw new ArgumentException("PrepareOptions.ProgressInterval: must not be negative");
    }
}

/// <summary>Progress of a transfer: files and bytes done and in all, and the average rate so far.</summary>
public sealed record TransferProgress(int FilesDone, int FilesTotal, long BytesDone, long BytesTotal, double BytesPerSecond);

/// <summary>
/// The outcome of <see cref="OssCacheClient.PrepareDirectoryAsync"/>: every file under the prefix is in
/// <see cref="Directory"/> with its size checked. <see cref="FilesSkipped"/> were already there (same size and ETag as
/// recorded by an earlier run).
/// </summary>
public sealed record PrepareResult(string Directory, int Files, int FilesWritten, int FilesSkipped, long Bytes, long BytesWritten, TimeSpan Elapsed);

/// <summary>
/// An object key that cannot be materialized safely under a local directory ('..' or '.' segments, an absolute path, NUL,
/// a trailing '/', an empty segment, a backslash, or a file and a directory of the same name). Thrown before anything is written.
/// </summary>
public sealed class UnsafeObjectKeyException : IOException
{
    public UnsafeObjectKeyException() { }
    public UnsafeObjectKeyException(string message) : base(message) { }
    public UnsafeObjectKeyException(string message, Exception inner) : base(message, inner) { }

    internal UnsafeObjectKeyException(IReadOnlyList<string> problems)
        : base($"refusing to prepare the directory: {problems.Count} object key(s) would escape or corrupt it; nothing was written. " +
               string.Join("; ", problems.Take(10)) + (problems.Count > 10 ? "; ..." : ""))
    {
        Problems = problems;
    }

    /// <summary>Each refused key with the reason.</summary>
    public IReadOnlyList<string> Problems { get; } = [];
}
