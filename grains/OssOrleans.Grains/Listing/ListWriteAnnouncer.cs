using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OssOrleans.Grains.Listing;

/// <summary>
/// Tells every active silo's <see cref="IListWriteNoticeGrain"/> that keys were written, before the write is answered, so
/// a listing asked after the answer does not come from a cache made before the write. The member list is the silo's own
/// view of the cluster (no call); a silo that does not answer within <see cref="Timeout"/> is logged and skipped: its
/// partitions may replay an older listing until their TTL.
/// </summary>
internal sealed partial class ListWriteAnnouncer(IGrainFactory grains, IClusterMembershipService membership, ILogger<ListWriteAnnouncer> logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task AnnounceAsync(string bucket, IReadOnlyCollection<string> keys)
    {
        if (keys.Count == 0)
            return;
        string[] written = [.. keys];
        var silos = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                await grains.GetGrain<IListWriteNoticeGrain>(silo.ToParsableString()).NoteWritesAsync(bucket, written).WaitAsync(Timeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or SiloUnavailableException)
            {
                LogNoticeFailed(logger, silo.ToString(), bucket, ex.GetType().Name);
            }
        })).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Silo {Silo} did not hear of writes to bucket {Bucket} ({Error}); its cached listings may lag until their TTL")]
    private static partial void LogNoticeFailed(ILogger logger, string silo, string bucket, string error);
}
