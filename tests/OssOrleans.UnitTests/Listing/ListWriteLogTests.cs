using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OssOrleans.Grains.Grains;
using OssOrleans.Grains.Hosting;
using OssOrleans.Grains.Listing;

namespace OssOrleans.UnitTests.Listing;

public sealed class ListWriteLogTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);
    private readonly ListWriteLog _log;

    public ListWriteLogTests() =>
        _log = new ListWriteLog(new CacheClock(_time), Options.Create(new CacheOptions { ListCacheTtl = TimeSpan.FromSeconds(30) }));

    [Fact]
    public void ChangedSince_WriteUnderPrefixAfterRunStarted_IsTrue()
    {
        long seen = _log.Version;
        _log.Note("bkt", ["data/x.bin"]);

        Assert.True(_log.ChangedSince(new ListPartitionKey("bkt", "data/", null, fast: false), seen));
        Assert.True(_log.ChangedSince(new ListPartitionKey("bkt", "", "/", fast: false), seen));
    }

    [Fact]
    public void ChangedSince_WritesElsewhereOrSeenBefore_IsFalse()
    {
        _log.Note("bkt", ["data/old.bin"]);
        long seen = _log.Version;
        _log.Note("bkt", ["other/x.bin"]);
        _log.Note("ckt", ["data/x.bin"]);

        Assert.False(_log.ChangedSince(new ListPartitionKey("bkt", "data/", null, fast: false), seen));
        // Outside the partition's key range (start-after is exclusive, end-at inclusive).
        _log.Note("bkt", ["data/a"]);
        Assert.False(_log.ChangedSince(new ListPartitionKey("bkt", "data/", null, fast: false, startAfter: "data/m"), seen));
        Assert.True(_log.ChangedSince(new ListPartitionKey("bkt", "data/", null, fast: false, endAt: "data/m"), seen));
    }

    [Fact]
    public void Note_MoreKeysThanKept_CountsAsWholeBucket()
    {
        long seen = _log.Version;
        _log.Note("bkt", Enumerable.Range(0, ListWriteLog.MaxKeysPerBucket + 1).Select(i => $"k/{i}"));

        Assert.True(_log.ChangedSince(new ListPartitionKey("bkt", "zzz/", null, fast: false), seen));
        Assert.False(_log.ChangedSince(new ListPartitionKey("bkt", "zzz/", null, fast: false), _log.Version));
    }

    [Fact]
    public void Note_WritesOlderThanTheListTtl_AreForgotten()
    {
        long seen = _log.Version;
        _log.Note("bkt", ["data/x"]);
        _time.Advance(TimeSpan.FromSeconds(31));
        _log.Note("bkt", ["other/y"]);

        Assert.False(_log.ChangedSince(new ListPartitionKey("bkt", "data/", null, fast: false), seen));
    }
}
