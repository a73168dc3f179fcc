using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Listing;
using OssOrleans.Gateway.Writing;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>The gateway's small pieces: continuation tokens, the part ledger, listing cursors, options.</summary>
public class GatewayPiecesTests
{
    [Theory]
    [InlineData("k")]
    [InlineData("dir/with\nnewline and ünicode 😀")]
    public void ContinuationToken_RoundTrips_AndRefusesWhatItDidNotMake(string position)
    {
        string token = ContinuationToken.Encode("abc123", position);

        Assert.True(ContinuationToken.TryDecode(token, out var id, out var decoded));
        Assert.Equal(("abc123", position), (id, decoded));
        Assert.False(ContinuationToken.TryDecode("not a token!", out _, out _));
        Assert.False(ContinuationToken.TryDecode(Convert.ToBase64String("2\nabc\nk"u8.ToArray()), out _, out _));
        Assert.False(ContinuationToken.TryDecode(new string('A', 5000), out _, out _));
    }

    [Fact]
    public void StagedPartLedger_ReceiptsOnlyForThePartsAndETagsCompleted()
    {
        var ledger = new StagedPartLedger();
        ledger.Record("bkt", "key", "up1", 1, Answer("\"e1\"", 1));
        ledger.Record("bkt", "key", "up1", 2, Answer("\"e2\"", 2));
        ledger.Record("bkt", "key", "up1", 2, Answer("\"e2b\"", 3));

        var receipts = ledger.Receipts("bkt", "key", "up1", [(1, "e1"), (2, "\"e2\"")]);
        var other = ledger.Receipts("bkt", "other", "up1", [(1, "e1")]);

        Assert.Equal([1], receipts.Select(r => r.PartNumber));
        Assert.Empty(other);
        Assert.Equal(300, ledger.SizeOf("bkt", "key", "up1", 2, "\"e2b\""));
        ledger.Forget("bkt", "key", "up1");
        Assert.Empty(ledger.Receipts("bkt", "key", "up1", [(1, "e1")]));
    }

    [Fact]
    public async Task ListCursorCache_TakeIsExclusive_AndIdleOrOverflowingCursorsAreDropped()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var cache = new ListCursorCache(Options.Create(new GatewayOptions { ListCursors = 2, ListCursorIdle = TimeSpan.FromSeconds(60) }), time);
        var listing = new ListPartitionKey("bkt", "p/", null, fast: false);
        var a = new TrackedStream();
        cache.Put("a", new ListCursor("t", listing, a));

        Assert.NotNull(cache.TryTake("a"));
        Assert.Null(cache.TryTake("a"));

        var b = new TrackedStream();
        var c = new TrackedStream();
        var d = new TrackedStream();
        cache.Put("b", new ListCursor("t", listing, b));
        time.Advance(TimeSpan.FromSeconds(61));
        cache.Put("c", new ListCursor("t", listing, c));
        cache.Put("d", new ListCursor("t", listing, d));

        Assert.True(b.Disposed);
        Assert.Null(cache.TryTake("b"));
        Assert.NotNull(cache.TryTake("c"));
        Assert.NotNull(cache.TryTake("d"));
    }

    [Theory]
    [InlineData("Urls", "ftp://x")]
    [InlineData("Region", "us east")]
    [InlineData("MaxPartSize", "1024")]
    [InlineData("WritePartSize", "2147483647")]
    [InlineData("BaseDomains", "http://s3.example.com")]
    public void GatewayOptionsValidator_BadOption_IsNamed(string option, string value)
    {
        var o = new GatewayOptions();
        switch (option)
        {
            case "Urls": o.Urls = value; break;
            case "Region": o.Region = value; break;
            case "MaxPartSize": o.MaxPartSize = int.Parse(value); break;
            case "WritePartSize": o.WritePartSize = int.Parse(value); break;
            case "BaseDomains": o.BaseDomains = [value]; break;
        }

        var result = new GatewayOptionsValidator().Validate(null, o);

        Assert.True(result.Failed);
        Assert.StartsWith($"Gateway:{option}:", result.FailureMessage);
    }

    private static PartAnswer Answer(string etag, int part) =>
        new(etag, "silo", [new StagedShard(0, "silo", "http://dp", 1, 10, 1, part, etag, part * 100L, "mac")]);

    private sealed class TrackedStream : IAsyncEnumerator<ListChunk>
    {
        public bool Disposed { get; private set; }

        public ListChunk Current => throw new InvalidOperationException();

        public ValueTask<bool> MoveNextAsync() => ValueTask.FromResult(false);

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
