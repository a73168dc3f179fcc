using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OssOrleans.Grains.Hosting;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Cache;

/// <summary>A shard in this silo's store: its data-plane handle, length and CRC-64.</summary>
internal readonly record struct LoadedShard(long Handle, int Length, ulong Crc64);

/// <summary>
/// The one way bytes get from the origin into this silo's shard store (shard grains and dataset run grains both load
/// through it). Nothing the caller says decides what is cached: the shard size must be the cluster's, the range is read
/// at the version's ETag, and the size the caller believes the version has must be the size the origin gives with the
/// bytes; otherwise nothing is kept. A load reserves at most one shard of memory, whatever the caller claims.
/// </summary>
internal sealed partial class ShardLoader(
    ShardStore store,
    IObjectStore origin,
    OriginGate gate,
    CacheInstruments instruments,
    IOptions<CacheOptions> options,
    ILogger<ShardLoader> logger)
{
    public int ShardSize { get; } = options.Value.ShardSize;

    /// <summary>
    /// Loads shard <paramref name="id"/> (stored under <paramref name="key"/>, its grain key) of a version the caller
    /// believes has <paramref name="objectSize"/> bytes. Throws the wire exception of an origin error
    /// (<see cref="OriginErrors"/>), or <see cref="ArgumentException"/> when the shard size or the object size is wrong.
    /// </summary>
    public async Task<LoadedShard> LoadAsync(ShardId id, string key, long objectSize)
    {
        if (id.ShardSize != ShardSize)
            throw new ArgumentException($"shard size {id.ShardSize} is not this cluster's ({ShardSize})");
        if (id.Index < 0)
            throw new ArgumentException($"shard index {id.Index} is negative");
        int length = id.LengthIn(objectSize);
        if (length <= 0)
            throw new ArgumentException($"shard {id.Index} lies beyond the end of a {objectSize}-byte object");

        byte[] buffer = store.Rent(length);
        long size;
        try
        {
            using (await gate.EnterAsync().ConfigureAwait(false))
            {
                instruments.OriginRequest();
                size = await origin.ReadRangeAsync(id.Object.Bucket, id.Object.Key, id.ETag, id.Offset, buffer.AsMemory(0, length)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            store.Return(buffer);
            LogLoadFailed(logger, id.ToString(), ex.GetType().Name, ex.Message);
            throw OriginErrors.ToWire(ex, id.Object, string.Create(CultureInfo.InvariantCulture, $"reading shard {id.Index} of"));
        }
        if (size != objectSize)
        {
            // The bytes are right for their range, but a shard is only the shard of a version whose size is known: a caller
            // that says 1,000 bytes of a 4 MiB object must not leave a 1,000-byte shard 0 for everyone else.
            store.Return(buffer);
            LogSizeMismatch(logger, id.ToString(), objectSize, size);
            throw new ArgumentException($"{id.Object} version {id.ETag} has {size} bytes, not {objectSize}");
        }
        instruments.Miss();
        instruments.FromOrigin(length);
        var crcs = ShardCrcs.Compute(buffer.AsSpan(0, length));
        long handle = store.Add(key, buffer, length, crcs.Whole, crcs);
        return new LoadedShard(handle, length, crcs.Whole);
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Loading shard {Shard} failed: {ErrorType}: {Error}")]
    private static partial void LogLoadFailed(ILogger logger, string shard, string errorType, string error);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Refused to cache shard {Shard}: the caller said the object has {Claimed} bytes, the origin {Actual}")]
    private static partial void LogSizeMismatch(ILogger logger, string shard, long claimed, long actual);
}
