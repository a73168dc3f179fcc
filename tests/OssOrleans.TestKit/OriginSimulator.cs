using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.TestKit;

/// <summary>A request as an <see cref="OriginSimulator"/> received it (for tests that check what a client sends).</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="RawTarget">The request target exactly as sent (path and query, still percent-encoded).</param>
/// <param name="Bucket">Decoded bucket name ("" for the service root).</param>
/// <param name="Key">Decoded object key ("" for bucket operations).</param>
/// <param name="Headers">Request headers (names lower-case; repeated headers joined with ", ").</param>
public sealed record ObservedRequest(string Method, string RawTarget, string Bucket, string Key, IReadOnlyDictionary<string, string> Headers);

/// <summary>Metadata of an object held by an <see cref="OriginSimulator"/>.</summary>
public sealed record SimulatedObjectInfo(string Key, long Length, string ETag, DateTimeOffset LastModified, string ContentType);

/// <summary>
/// An in-process S3-subset server on Kestrel (http://127.0.0.1:&lt;port&gt;) that serves objects from memory,
/// with path-style addressing (<c>/{bucket}/{key}</c>), bandwidth and latency shaping
/// (<see cref="Settings"/>), injectable faults (<see cref="Faults"/>) and request counters
/// (<see cref="Counters"/>). Signatures are not checked; any credentials work.
/// Supported: ListBuckets, Create/Head/Delete bucket, GetBucketLocation, ListObjectsV2 and V1, ListMultipartUploads,
/// Head/Get (ranges, If-Match/If-None-Match/If-(Un)Modified-Since)/Put (If-None-Match: *)/Delete object,
/// and multipart upload (initiate, upload part, ListParts, complete, abort). Anything else answers 501 NotImplemented.
/// </summary>
public sealed partial class OriginSimulator : IAsyncDisposable
{
    /// <summary>S3's limit for one PUT.</summary>
    public const long MaxSinglePutSize = 5L * 1024 * 1024 * 1024;

    /// <summary>S3's key length limit, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    private readonly ConcurrentDictionary<string, SimBucket> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MultipartUpload> _uploads = new(StringComparer.Ordinal);
    private readonly CounterSet _counters = new();
    private readonly SharedRateLimiter _downloadLimiter = new();
    private readonly SharedRateLimiter _uploadLimiter = new();
    private readonly int _port;
    private WebApplication? _app;
    private Uri? _endpoint;
    private long _requestIds;

    /// <param name="settings">Shaping and behaviour; defaults to no latency and no caps.</param>
    /// <param name="port">Loopback port to bind; 0 (default) picks a free one.</param>
    public OriginSimulator(SimulatorSettings? settings = null, int port = 0)
    {
        Settings = settings ?? new SimulatorSettings();
        _port = port;
    }

    /// <summary>Starts a simulator and creates the given buckets.</summary>
    public static async Task<OriginSimulator> StartNewAsync(SimulatorSettings? settings = null, params string[] buckets)
    {
        var sim = new OriginSimulator(settings);
        foreach (var b in buckets)
        {
            sim.CreateBucket(b);
        }
        await sim.StartAsync().ConfigureAwait(false);
        return sim;
    }

    public SimulatorSettings Settings { get; }

    public SimulatorFaults Faults { get; } = new();

    /// <summary>
    /// Called for every request before it is handled, on the request's thread (keep it quick and thread-safe).
    /// Null (default) costs nothing.
    /// </summary>
    public Action<ObservedRequest>? OnRequest { get; set; }

    /// <summary>The base address, e.g. http://127.0.0.1:41234/ (valid after <see cref="StartAsync"/>).</summary>
    public Uri Endpoint => _endpoint ?? throw new InvalidOperationException("The simulator is not started; call StartAsync first.");

    /// <summary>A snapshot of the request counters.</summary>
    public SimulatorCounters Counters => _counters.Snapshot();

    public void ResetCounters() => _counters.Reset();

    /// <summary>Multipart uploads initiated and neither completed nor aborted, over all buckets.</summary>
    public int OpenMultipartUploads => _uploads.Count;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The simulator is already started.");
        }
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            o.Limits.MaxRequestBodySize = null;
            o.Limits.MinRequestBodyDataRate = null;
            o.Limits.MinResponseDataRate = null;
            o.Limits.MaxRequestLineSize = 32 * 1024;
            o.Limits.MaxRequestBufferSize = 1024 * 1024;
            o.Limits.MaxResponseBufferSize = 1024 * 1024;
            o.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(10);
            o.Limits.MaxConcurrentConnections = null;
            o.Listen(IPAddress.Loopback, _port);
        });
        // Uploads arrive in 64 KiB receives instead of Kestrel's 4 KiB blocks (each behind a zero-byte read): the origin
        // stands in for a server on another machine, so its own CPU per byte should stay small on a shared 2-core box.
        builder.Services.RemoveAll<IMemoryPoolFactory<byte>>();
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlocks>();
        builder.WebHost.UseSockets(o => o.WaitForDataBeforeAllocatingBuffer = false);
        // The host must not take over Ctrl+C / SIGTERM of the process that embeds the simulator
        // (ConsoleLifetime would cancel them and wait for the host to stop).
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel did not report the address it listens on.");
        _endpoint = new Uri(address.EndsWith('/') ? address : address + "/");
        _app = app;
    }

    public async ValueTask DisposeAsync()
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await app.StopAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ---- programmatic access (no HTTP, not counted) ----------------------------------------------

    /// <summary>Creates a bucket if it does not exist.</summary>
    public void CreateBucket(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/'))
        {
            throw new ArgumentException("A bucket name cannot contain '/'.", nameof(name));
        }
        _buckets.GetOrAdd(name, n => new SimBucket(n));
    }

    public bool BucketExists(string name) => _buckets.ContainsKey(name);

    /// <summary>Stores an object (the array is kept, not copied: do not change it afterwards).</summary>
    public SimulatedObjectInfo PutObject(string bucket, string key, byte[] data, string? contentType = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return PutObject(bucket, key, [data], contentType);
    }

    /// <summary>Stores an object made of several arrays (for objects over 2 GiB). The arrays are kept, not copied.</summary>
    public SimulatedObjectInfo PutObject(string bucket, string key, IReadOnlyList<byte[]> segments, string? contentType = null)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var b = RequireBucket(bucket);
        CheckKey(key);
        var obj = new StoredObject(Blob.Create(segments.ToArray(), Settings.Md5ETags), DateTimeOffset.UtcNow,
            contentType ?? DefaultContentType, null);
        b.Set(key, obj);
        return Info(key, obj);
    }

    /// <summary>Stores many objects at once (each array is kept, not copied). Returns how many were stored.</summary>
    public int PutObjects(string bucket, IEnumerable<(string Key, byte[] Data)> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var b = RequireBucket(bucket);
        bool md5 = Settings.Md5ETags;
        var now = DateTimeOffset.UtcNow;
        int count = 0;
        foreach (var batch in objects.Chunk(4096))
        {
            var prepared = new (string Key, StoredObject Obj)[batch.Length];
            for (int i = 0; i < batch.Length; i++)
            {
                CheckKey(batch[i].Key);
                ArgumentNullException.ThrowIfNull(batch[i].Data);
                prepared[i] = (batch[i].Key, new StoredObject(Blob.Create(batch[i].Data, md5), now, DefaultContentType, null));
            }
            lock (b.Gate)
            {
                foreach (var (k, o) in prepared)
                {
                    b.Index.Set(k, o);
                }
            }
            count += batch.Length;
        }
        return count;
    }

    /// <summary>
    /// Stores many objects that all share one content array and one metadata record, so that a million
    /// keys cost little more than the key strings (about 100 bytes per key). Keys in ascending order load fastest.
    /// </summary>
    public int PutSharedObjects(string bucket, IEnumerable<string> keys, byte[] sharedData)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(sharedData);
        var b = RequireBucket(bucket);
        var obj = new StoredObject(Blob.Create(sharedData, Settings.Md5ETags), DateTimeOffset.UtcNow, DefaultContentType, null);
        int count = 0;
        foreach (var batch in keys.Chunk(4096))
        {
            foreach (var k in batch)
            {
                CheckKey(k);
            }
            lock (b.Gate)
            {
                foreach (var k in batch)
                {
                    b.Index.Set(k, obj);
                }
            }
            count += batch.Length;
        }
        return count;
    }

    /// <summary>A copy of an object's content, or null when it does not exist.</summary>
    public byte[]? GetObjectBytes(string bucket, string key) =>
        FindBucket(bucket)?.Get(key)?.Blob.ToArray();

    /// <summary>An object's metadata, or null when it does not exist.</summary>
    public SimulatedObjectInfo? HeadObject(string bucket, string key)
    {
        var obj = FindBucket(bucket)?.Get(key);
        return obj is null ? null : Info(key, obj);
    }

    public bool DeleteObject(string bucket, string key) => FindBucket(bucket)?.Remove(key) ?? false;

    /// <summary>
    /// Makes the simulator report <paramref name="crc64"/> as the object's whole-object CRC-64 (with <see cref="SimulatorSettings.Crc64Header"/>)
    /// while serving its real bytes: an origin whose bytes do not match its own checksum (damaged storage, a bad replica).
    /// </summary>
    public void MisreportCrc64(string bucket, string key, ulong crc64) =>
        (FindBucket(bucket)?.Get(key) ?? throw new KeyNotFoundException($"{bucket}/{key}")).Blob.SetKnownCrc64(crc64);

    /// <summary>Number of objects in a bucket (0 when the bucket does not exist).</summary>
    public int ObjectCount(string bucket) => FindBucket(bucket)?.Count ?? 0;

    /// <summary>Every key of a bucket that starts with <paramref name="prefix"/>, in listing order.</summary>
    public IReadOnlyList<string> Keys(string bucket, string prefix = "")
    {
        var b = FindBucket(bucket);
        if (b is null)
        {
            return [];
        }
        var result = new List<string>();
        lock (b.Gate)
        {
            for (var p = b.Index.LowerBound(prefix); b.Index.TryGet(p, out var e); p = b.Index.Next(p))
            {
                if (!e.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    break;
                }
                result.Add(e.Key);
            }
        }
        return result;
    }

    private sealed class EmbeddedHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private const string DefaultContentType = "binary/octet-stream";

    private static SimulatedObjectInfo Info(string key, StoredObject obj) =>
        new(key, obj.Blob.Length, obj.Blob.ETag, obj.LastModified, obj.ContentType);

    private SimBucket? FindBucket(string name) => _buckets.TryGetValue(name, out var b) ? b : null;

    private SimBucket RequireBucket(string name) =>
        FindBucket(name) ?? throw new InvalidOperationException($"Bucket '{name}' does not exist; call CreateBucket first.");

    private static void CheckKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (System.Text.Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            throw new ArgumentException($"Key is longer than {MaxKeyBytes} UTF-8 bytes.", nameof(key));
        }
    }

    private sealed class LargeBlocks : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
    }
}
