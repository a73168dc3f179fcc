using OssOrleans.Grains.Listing;

namespace OssOrleans.Grains.Grains;

/// <summary>This silo's ear for writes through the cluster (see <see cref="ListWriteLog"/>). Placed on the silo its key names.</summary>
[SiloKeyPlacement]
internal sealed class ListWriteNoticeGrain(ListWriteLog log) : Grain, IListWriteNoticeGrain
{
    public Task NoteWritesAsync(string bucket, string[] keys)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(keys);
        log.Note(bucket, keys);
        return Task.CompletedTask;
    }
}
