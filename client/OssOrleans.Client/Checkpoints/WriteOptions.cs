namespace OssOrleans.Client;

/// <summary>Options of <see cref="OssCacheClient.OpenWriteAsync(string, WriteOptions?, CancellationToken)"/>.</summary>
public sealed class WriteOptions
{
    /// <summary>
    /// Bytes per multipart part. Rounded up to a multiple of the cluster's shard size (so each part's bytes become whole
    /// cached shards), and at least 5 MiB (S3's smallest part). Default 8 MiB. At most 10,000 parts per object: 80 GB at
    /// the default; raise it for larger objects.
    /// </summary>
    public int PartSize { get; set; } = 8 << 20;

    /// <summary>
    /// Parts uploaded at once. Default 16: each part is received whole by a silo before it goes on to the origin, so
    /// fewer in flight leave the origin's connections idle (measured: 4 gave 0.47 of the origin's upload cap, 8 gave 0.70,
    /// 16 to 32 about 0.75). The stream holds at most <c>PartSize x (UploadConcurrency + 1)</c> bytes: 136 MiB at the defaults.
    /// </summary>
    public int UploadConcurrency { get; set; } = 16;

    /// <summary>Fail with <see cref="OssObjectExistsException"/> when the object already exists. Default false (overwrite).</summary>
    public bool CreateOnly { get; set; }

    /// <summary>
    /// Keep the written bytes in the cluster as the cached shards of the new version, so reading it back right after needs
    /// no origin GET. Default true. It costs cache room (older shards are evicted to make it).
    /// </summary>
    public bool WriteThrough { get; set; } = true;

    internal void Validate()
    {
        if (PartSize is < 1 or > (1 << 30))
            throw new ArgumentException($"WriteOptions.PartSize: must be between 1 byte and 1 GiB (got {PartSize})");
        if (UploadConcurrency is < 1 or > 256)
            throw new ArgumentException($"WriteOptions.UploadConcurrency: must be between 1 and 256 (got {UploadConcurrency})");
    }
}
