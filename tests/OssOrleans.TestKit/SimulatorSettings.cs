namespace OssOrleans.TestKit;

/// <summary>
/// Shaping and behaviour of an <see cref="OriginSimulator"/>. Every property may be changed while the
/// simulator runs, from any thread; each request reads the values it needs when it needs them
/// (a GET body reads the bandwidth caps before every chunk). Zero means "no latency" or "no cap".
/// </summary>
public sealed class SimulatorSettings
{
    private long _firstByteLatencyTicks;
    private long _listLatencyTicks;
    private long _perConnectionBytesPerSecond;
    private long _aggregateBytesPerSecond;
    private long _perConnectionUploadBytesPerSecond;
    private long _aggregateUploadBytesPerSecond;
    private int _ossMode;
    private int _crc64Header;
    private int _md5ETags = 1;
    private int _maxKeysLimit = 1000;
    private int _chunkSize = 64 * 1024;
    private long _minPartSizeOverride = -1;

    /// <summary>
    /// Shaped like a real OSS intranet endpoint, scaled to the 2-core machines this project runs on:
    /// 20 ms to first byte, 100 MB/s per connection, 500 MB/s for all GET bodies together (a real
    /// intranet endpoint gives more, but this machine cannot serve much more than a few hundred MB/s
    /// to a client on the same 2 cores while the client also works; and a cap of at most 4x the
    /// per-connection rate would make "4x a single stream" unreachable by construction), the same
    /// 500 MB/s cap for uploads, and list pages of up to 1000 keys after 20 ms each. <see cref="OssMode"/> stays off:
    /// quirks and shaping are separate switches. Returns a new instance on each call.
    /// </summary>
    public static SimulatorSettings OssIntranetLike => new()
    {
        FirstByteLatency = TimeSpan.FromMilliseconds(20),
        ListLatency = TimeSpan.FromMilliseconds(20),
        PerConnectionBytesPerSecond = 100_000_000,
        AggregateBytesPerSecond = 500_000_000,
        PerConnectionUploadBytesPerSecond = 100_000_000,
        AggregateUploadBytesPerSecond = 500_000_000,
        MaxKeysLimit = 1000,
        // Large enough that pacing and socket writes cost little CPU next to the readers on the same 2 cores;
        // at 100 MB/s a 256 KiB chunk is 2.6 ms, still fine-grained pacing.
        ChunkSize = 256 * 1024,
    };

    /// <summary>Delay before the response headers of every non-list request (GET, HEAD, PUT, multipart...).</summary>
    public TimeSpan FirstByteLatency
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _firstByteLatencyTicks));
        set => Volatile.Write(ref _firstByteLatencyTicks, NonNegative(value).Ticks);
    }

    /// <summary>Delay before the response of every list request (ListObjectsV2/V1, ListBuckets).</summary>
    public TimeSpan ListLatency
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _listLatencyTicks));
        set => Volatile.Write(ref _listLatencyTicks, NonNegative(value).Ticks);
    }

    /// <summary>Cap on each GET response body, in bytes per second; 0 = none.</summary>
    public long PerConnectionBytesPerSecond
    {
        get => Volatile.Read(ref _perConnectionBytesPerSecond);
        set => Volatile.Write(ref _perConnectionBytesPerSecond, NonNegative(value));
    }

    /// <summary>Cap shared by all GET response bodies together (a token bucket), in bytes per second; 0 = none.</summary>
    public long AggregateBytesPerSecond
    {
        get => Volatile.Read(ref _aggregateBytesPerSecond);
        set => Volatile.Write(ref _aggregateBytesPerSecond, NonNegative(value));
    }

    /// <summary>Cap on each PUT/UploadPart request body, in bytes per second; 0 = none.</summary>
    public long PerConnectionUploadBytesPerSecond
    {
        get => Volatile.Read(ref _perConnectionUploadBytesPerSecond);
        set => Volatile.Write(ref _perConnectionUploadBytesPerSecond, NonNegative(value));
    }

    /// <summary>Cap shared by all PUT/UploadPart request bodies together, in bytes per second; 0 = none.</summary>
    public long AggregateUploadBytesPerSecond
    {
        get => Volatile.Read(ref _aggregateUploadBytesPerSecond);
        set => Volatile.Write(ref _aggregateUploadBytesPerSecond, NonNegative(value));
    }

    /// <summary>
    /// OSS quirks: an invalid or out-of-range Range returns 200 with the whole object unless the request
    /// has <c>x-oss-range-behavior: standard</c>; <c>x-oss-forbid-overwrite: true</c> on PUT (and
    /// CompleteMultipartUpload) gives 409 FileAlreadyExists when the object exists; ListObjects without
    /// max-keys returns at most 100 keys; the minimum multipart part size is 100 KiB instead of 5 MiB.
    /// </summary>
    public bool OssMode
    {
        get => Volatile.Read(ref _ossMode) != 0;
        set => Volatile.Write(ref _ossMode, value ? 1 : 0);
    }

    /// <summary>
    /// Send <c>x-oss-hash-crc64ecma</c> (decimal CRC-64/XZ) as OSS does: of the whole object on HEAD, GET, PUT and
    /// CompleteMultipartUpload responses, of the part on UploadPart responses.
    /// </summary>
    public bool Crc64Header
    {
        get => Volatile.Read(ref _crc64Header) != 0;
        set => Volatile.Write(ref _crc64Header, value ? 1 : 0);
    }

    /// <summary>
    /// ETags are the quoted hex MD5 of the content, as S3 does (default). When false, ETags are unique
    /// counter-based tags that change on every write, shaped like a one-part multipart ETag
    /// ("&lt;32 hex&gt;-1") so that AWSSDK.S3 does not MD5-check whole-object GETs against them; this saves
    /// the MD5 cost when benchmarks upload gigabytes through the simulator on a 2-core machine.
    /// </summary>
    public bool Md5ETags
    {
        get => Volatile.Read(ref _md5ETags) != 0;
        set => Volatile.Write(ref _md5ETags, value ? 1 : 0);
    }

    /// <summary>Largest page a list request can get (S3 and OSS both cap max-keys at 1000).</summary>
    public int MaxKeysLimit
    {
        get => Volatile.Read(ref _maxKeysLimit);
        set => Volatile.Write(ref _maxKeysLimit, Math.Max(1, value));
    }

    /// <summary>Size of the chunks a body is written in (and paced by). Default 64 KiB.</summary>
    public int ChunkSize
    {
        get => Volatile.Read(ref _chunkSize);
        set => Volatile.Write(ref _chunkSize, Math.Clamp(value, 1024, 16 * 1024 * 1024));
    }

    /// <summary>
    /// Minimum size of every multipart part except the last. Null (default) means 5 MiB in S3 mode and
    /// 100 KiB in <see cref="OssMode"/>; set 0 to allow any size in tests.
    /// </summary>
    public long? MinPartSize
    {
        get
        {
            long v = Volatile.Read(ref _minPartSizeOverride);
            return v < 0 ? null : v;
        }
        set => Volatile.Write(ref _minPartSizeOverride, value is null ? -1 : Math.Max(0, value.Value));
    }

    internal long EffectiveMinPartSize => MinPartSize ?? (OssMode ? 100 * 1024 : 5 * 1024 * 1024);

    /// <summary>One line with every setting, for printing beside benchmark results.</summary>
    public override string ToString() =>
        $"FirstByteLatency={FirstByteLatency.TotalMilliseconds}ms ListLatency={ListLatency.TotalMilliseconds}ms " +
        $"PerConnection={Rate(PerConnectionBytesPerSecond)} Aggregate={Rate(AggregateBytesPerSecond)} " +
        $"PerConnectionUpload={Rate(PerConnectionUploadBytesPerSecond)} AggregateUpload={Rate(AggregateUploadBytesPerSecond)} " +
        $"MaxKeysLimit={MaxKeysLimit} OssMode={OssMode} Crc64Header={Crc64Header} Md5ETags={Md5ETags} ChunkSize={ChunkSize}";

    private static string Rate(long bytesPerSecond) =>
        bytesPerSecond == 0 ? "unlimited" : $"{bytesPerSecond / 1e6:0.#}MB/s";

    private static TimeSpan NonNegative(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;

    private static long NonNegative(long value) => Math.Max(0, value);
}
