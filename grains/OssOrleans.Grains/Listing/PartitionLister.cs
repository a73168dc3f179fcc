using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using OssOrleans.Storage;

namespace OssOrleans.Grains.Listing;

/// <summary>How partitions page and split; from <see cref="Hosting.CacheOptions"/> and the constants here.</summary>
internal sealed record ListSettings(int PageSize)
{
    /// <summary>Children one split makes at most; each splits again when it turns out large.</summary>
    public const int MaxChildren = 16;

    /// <summary>
    /// The smallest child, in pages. Every partition ends with a part page (on average half a request more than its keys
    /// need); partitions split only while the silo has free list slots, so small ones appear where slots would idle
    /// (near the end of a listing), not everywhere.
    /// </summary>
    public const int MinChildPages = 4;

    /// <summary>
    /// A partition expected to hold this many pages or more splits even when the silo's slots are all busy: 16 pages are
    /// 0.3-0.4 s of sequential paging, longer than a whole 400,000-key listing takes, so such a partition would be the tail.
    /// </summary>
    public const int LargePages = 16;

    /// <summary>Names a directory probe asks for inside a bounded range (a split rarely needs more than a few dozen).</summary>
    public const int BoundedProbeKeys = 200;

    /// <summary>Consecutive truncated pages without a new key before the origin is declared to be looping.</summary>
    public const int MaxPagesWithoutProgress = 64;

    /// <summary>
    /// Chunks an uncached run may be ahead of its slowest reader: 16 packed pages, about 300 KB at 1000 keys a page, so a
    /// partition can finish while a sorted reader is still busy with the partitions before it.
    /// </summary>
    public const int Lookahead = 16;

    public int MinChildKeys => MinChildPages * PageSize;
}

/// <summary>
/// Lists one partition from the origin into a <see cref="ListRun"/>: pages through the partition's range with
/// ListObjectsV2, stops at the range's end, and (for fast partitions) splits the rest of the range into child partitions
/// while it is large and the silo has list slots to spare, looking after the first page and then every second page.
/// The next page is requested before the current one is split and handed on, so the origin's latency overlaps the work.
/// </summary>
internal sealed partial class PartitionLister(IObjectStore origin, ListGate gate, ListSettings settings, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public async Task RunAsync(ListPartitionKey key, ListRun run)
    {
        var cancellationToken = run.Stopping;
        try
        {
            await ListAsync(key, run, cancellationToken).ConfigureAwait(false);
            run.Complete(null);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            run.Complete(ex);
        }
        catch (Exception ex)
        {
            var error = ListErrors.Translate(key, ex);
            LogFailed(_logger, key.ToString(), error.Message);
            run.Complete(error);
        }
    }

    private async Task ListAsync(ListPartitionKey key, ListRun run, CancellationToken cancellationToken)
    {
        string? end = key.EndAt;
        string? last = key.StartAfter;
        // Keys estimated to be left in the range the partition keeps (null: unknown). It sizes the last page, so that a
        // partition does not read a whole page past its end, and spares small partitions the split and its probes.
        double? expected = key.ExpectedKeys;
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        int pages = 0, nextSplit = 1, withoutProgress = 0;
        long listed = 0;
        int asked = PageFor(expected);
        var next = FetchAsync(Request(key, asked) with { StartAfter = key.StartAfter }, cancellationToken);
        try
        {
            await PageAsync().ConfigureAwait(false);
        }
        finally
        {
            // A page still in flight when the listing stops (cancelled, failed): observe its failure, if any.
            _ = next.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        async Task PageAsync()
        {
            while (true)
            {
                var page = await next.ConfigureAwait(false);
                pages++;
                var writer = new ListEntryWriter();
                var items = new List<string>(page.Entries.Count + page.CommonPrefixes.Count);
                bool pastEnd = false;
                foreach (var (item, entry) in Merge(page))
                {
                    // The origin lists after the start (or the last token); anything else is not this partition's to report.
                    if (last is not null && KeyOrder.Compare(item, last) <= 0)
                        continue;
                    if (end is not null && KeyOrder.Compare(item, end) > 0)
                    {
                        pastEnd = true;
                        break;
                    }
                    if (entry is null)
                        writer.Add(item, 0, "", default, isPrefix: true);
                    else
                        writer.Add(item, entry.Size, entry.ETag, entry.LastModified);
                    items.Add(item);
                }

                bool more = page.IsTruncated && !pastEnd;
                // A short page that did not reach the end means the estimate was short: page normally from here.
                expected = more && asked < settings.PageSize ? null : expected - items.Count;
                if (more)
                {
                    string token = page.NextContinuationToken
                        ?? throw new ListingLoopException($"the origin said page {pages} is truncated but gave no continuation token");
                    if (!tokens.Add(token))
                        throw new ListingLoopException($"the origin repeated an earlier continuation token after page {pages}, so paging would never end");
                    withoutProgress = items.Count == 0 ? withoutProgress + 1 : 0;
                    if (withoutProgress >= ListSettings.MaxPagesWithoutProgress)
                        throw new ListingLoopException($"the origin returned {withoutProgress} truncated pages in a row without a new key");
                    asked = PageFor(expected);
                    next = FetchAsync(Request(key, asked) with { ContinuationToken = token }, cancellationToken);
                }

                if (items.Count > 0)
                {
                    last = items[^1];
                    listed += items.Count;
                    await run.AppendAsync(writer.ToChunk(), cancellationToken).ConfigureAwait(false);
                }

                if (!more)
                    break;
                if (key.Fast && pages >= nextSplit && items.Count > 0)
                {
                    // Split when it pays: the range is (or may be) large, and the silo has list slots to spare (more
                    // partitions than slots only add requests). The root splits at once: it makes the first parallelism.
                    bool root = pages == 1 && key.StartAfter is null && key.EndAt is null;
                    bool large = expected is not double e || e >= 2 * settings.MinChildKeys;
                    bool huge = expected >= ListSettings.LargePages * settings.PageSize;
                    if (!large || !(root || huge || gate.HasFreeSlot))
                    {
                        nextSplit = pages + 2;
                        continue;
                    }
                    var plan = await PlanAsync(key, items, end, listed, cancellationToken).ConfigureAwait(false);
                    if (plan.Children.Count == 0)
                    {
                        // Nothing worth splitting off (by the names): look again later, less and less often.
                        expected ??= plan.Total;
                        nextSplit = pages * 2;
                        continue;
                    }
                    var children = new ListPartitionKey[plan.Children.Count];
                    for (int i = 0; i < children.Length; i++)
                    {
                        var (bound, weight) = plan.Children[i];
                        children[i] = key.WithRange(bound, i + 1 < children.Length ? plan.Children[i + 1].Bound : end, (long)Math.Ceiling(weight));
                    }
                    end = plan.Children[0].Bound;
                    expected = plan.Own;
                    nextSplit = pages + 2;
                    LogSplit(_logger, key.ToString(), children.Length, pages, (long)plan.Total);
                    await run.AppendAsync(ListChunk.Split(children), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    // Keys to ask for: a full page, or the expected rest and a margin (a page that falls short of the end is re-asked in full).
    private int PageFor(double? expected) =>
        expected is double e && e < settings.PageSize
            ? (int)Math.Clamp(Math.Ceiling(e * 1.25) + 16, Math.Min(32, settings.PageSize), settings.PageSize)
            : settings.PageSize;

    private async Task<SplitPlan> PlanAsync(ListPartitionKey key, List<string> items, string? end, long listed, CancellationToken cancellationToken)
    {
        string last = items[^1];
        IReadOnlyList<DirectoryProbe> probes = [];
        if (key.Delimiter is null)
        {
            var levels = ListSplitter.ProbeLevels(key.Prefix, last, end);
            if (levels.Count > 0)
                probes = await Task.WhenAll(levels.Select(level => ProbeAsync(key.Bucket, level, last, end, cancellationToken))).ConfigureAwait(false);
        }
        // What the paging has shown counts only for a partition nobody estimated (the root, a resumed range): a child's
        // estimate came from the structure its parent saw, which beats "as much again as listed so far".
        long evidence = key.ExpectedKeys is null ? listed : 0;
        return ListSplitter.Plan(new SplitInput(key.Prefix, key.Delimiter, items, end, probes, settings.MinChildKeys, ListSettings.MaxChildren, evidence));
    }

    // A "/" listing of one directory level after the last key: its subdirectories are natural boundaries. Only an
    // estimate: a failed probe, or a server whose delimiter listing is incomplete, just gives fewer boundaries.
    // Within a bounded range fewer names are of use than at an open end (the root): ask for less.
    private async Task<DirectoryProbe> ProbeAsync(string bucket, string level, string last, string? end, CancellationToken cancellationToken)
    {
        try
        {
            int maxKeys = end is null ? settings.PageSize : Math.Min(settings.PageSize, ListSettings.BoundedProbeKeys);
            var page = await FetchAsync(new ListRequest(bucket, level) { Delimiter = "/", StartAfter = last, MaxKeys = maxKeys }, cancellationToken).ConfigureAwait(false);
            return new DirectoryProbe(level, Merge(page).ConvertAll(e => e.Item), page.IsTruncated);
        }
        catch (ObjectStoreException)
        {
            return new DirectoryProbe(level, []);
        }
    }

    private async Task<ListPage> FetchAsync(ListRequest request, CancellationToken cancellationToken)
    {
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            return await origin.ListPageAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private static ListRequest Request(ListPartitionKey key, int maxKeys) => new(key.Bucket, key.Prefix) { Delimiter = key.Delimiter, MaxKeys = maxKeys };

    // Grains EventIds for listing: 2200-2299. Messages name the listing (bucket, prefix, range); never credentials.
    [LoggerMessage(EventId = 2200, Level = LogLevel.Warning, Message = "{Partition} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string partition, string error);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Debug, Message = "{Partition} split into {Children} child partitions after page {Page} (about {Keys} keys left)")]
    private static partial void LogSplit(ILogger logger, string partition, int children, int page, long keys);

    /// <summary>A page's keys and common prefixes as one ascending list (a common prefix has no entry).</summary>
    internal static List<(string Item, ListEntry? Entry)> Merge(ListPage page)
    {
        var result = new List<(string, ListEntry?)>(page.Entries.Count + page.CommonPrefixes.Count);
        int i = 0, j = 0;
        var entries = page.Entries;
        var prefixes = page.CommonPrefixes;
        while (i < entries.Count || j < prefixes.Count)
        {
            if (j >= prefixes.Count || (i < entries.Count && KeyOrder.Compare(entries[i].Key, prefixes[j]) < 0))
            {
                var e = entries[i++];
                result.Add((e.Key, e));
            }
            else
            {
                result.Add((prefixes[j++], null));
            }
        }
        return result;
    }
}

/// <summary>The origin's paging would never end (a missing or repeated continuation token, or pages without progress).</summary>
internal sealed class ListingLoopException(string message) : Exception(message);

internal static class ListErrors
{
    /// <summary>What callers see: clear messages naming the listing, in exception types every caller can deserialize.</summary>
    public static Exception Translate(ListPartitionKey key, Exception ex) => ex switch
    {
        ListingLoopException => new OriginFailedException($"{key}: stopped listing: {ex.Message}"),
        OriginProtocolException when ex.Message.Contains("continuation", StringComparison.OrdinalIgnoreCase)
            => new OriginFailedException($"{key}: stopped listing: {ex.Message}"),
        ObjectStoreException => Cache.OriginErrors.ToWire(ex, new ObjectUri(key.Bucket, key.Prefix), "listing"),
        _ => new OriginFailedException($"{key}: listing failed: {ex.GetType().Name}: {ex.Message}"),
    };

    /// <summary>A new exception like <paramref name="error"/>, so readers on several threads never throw one instance.</summary>
    public static Exception Fresh(Exception error) => error switch
    {
        OssObjectNotFoundException => new OssObjectNotFoundException(error.Message),
        OperationCanceledException => new OperationCanceledException(error.Message),
        EnumerationAbortedException => new EnumerationAbortedException(error.Message),
        _ => new OriginFailedException(error.Message),
    };
}
