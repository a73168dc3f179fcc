using OssOrleans.Grains.Listing;

namespace OssOrleans.UnitTests.Listing;

public sealed class ListRunTests
{
    private static ListChunk Chunk(int n, string first = "k")
    {
        var writer = new ListEntryWriter();
        for (int i = 0; i < n; i++)
            writer.Add($"{first}{i:D4}", i, "\"e\"", DateTimeOffset.UnixEpoch);
        return writer.ToChunk();
    }

    [Fact]
    public async Task CachedRun_LaterReader_ReplaysEveryChunk()
    {
        var run = new ListRun(cache: true, new ListCacheBudget(1000), lookahead: 1, DateTimeOffset.UnixEpoch);
        Assert.True(run.TryAttach(out var first));
        for (int i = 0; i < 5; i++)
            await run.AppendAsync(Chunk(10, $"c{i}-"), CancellationToken.None); // a cached run never waits for readers
        run.Complete(null);

        var a = await Drain(run.ReadAsync(first));
        Assert.True(run.IsReplayable);
        Assert.True(run.TryAttach(out var second));
        var b = await Drain(run.ReadAsync(second));
        Assert.Equal(50, a.Sum(c => c.Count));
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task UncachedRun_ProducerWaitsForTheSlowestReader_AndDropsWhatWasRead()
    {
        var run = new ListRun(cache: false, new ListCacheBudget(0), lookahead: 2, DateTimeOffset.UnixEpoch);
        Assert.True(run.TryAttach(out var cursor));
        await run.AppendAsync(Chunk(1), CancellationToken.None);
        await run.AppendAsync(Chunk(1), CancellationToken.None);
        var third = run.AppendAsync(Chunk(1), CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(third.IsCompleted, "the producer ran more than the lookahead ahead of its reader");

        await using var reader = run.ReadAsync(cursor).GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync());
        await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(run.TryAttach(out _), "a reader attached after chunks were dropped");
        run.Complete(null);
        int rest = 0;
        while (await reader.MoveNextAsync())
            rest++;
        Assert.Equal(2, rest);
    }

    [Fact]
    public async Task CachedRun_OverTheSilosBudget_StopsCachingAndGivesTheBudgetBack()
    {
        var budget = new ListCacheBudget(25);
        var run = new ListRun(cache: true, budget, lookahead: 8, DateTimeOffset.UnixEpoch);
        Assert.True(run.TryAttach(out var cursor));
        await run.AppendAsync(Chunk(10), CancellationToken.None);
        await run.AppendAsync(Chunk(10), CancellationToken.None);
        Assert.Equal(20, budget.Used);
        await run.AppendAsync(Chunk(10), CancellationToken.None);
        Assert.False(run.IsReplayable);
        run.Complete(null);
        var chunks = await Drain(run.ReadAsync(cursor));
        Assert.Equal(30, chunks.Sum(c => c.Count));
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task UncachedRun_LastReaderLeaves_StopsTheProducer()
    {
        var run = new ListRun(cache: false, new ListCacheBudget(0), lookahead: 1, DateTimeOffset.UnixEpoch);
        Assert.True(run.TryAttach(out var cursor));
        await run.AppendAsync(Chunk(1), CancellationToken.None);
        await using (var reader = run.ReadAsync(cursor).GetAsyncEnumerator())
            Assert.True(await reader.MoveNextAsync());
        Assert.True(run.Stopping.IsCancellationRequested);
    }

    [Fact]
    public async Task Run_Failed_EveryReaderGetsTheError()
    {
        var run = new ListRun(cache: true, new ListCacheBudget(100), lookahead: 1, DateTimeOffset.UnixEpoch);
        Assert.True(run.TryAttach(out var a));
        Assert.True(run.TryAttach(out var b));
        await run.AppendAsync(Chunk(1), CancellationToken.None);
        run.Complete(new OriginFailedException("origin broke"));
        foreach (var cursor in new[] { a, b })
        {
            var error = await Assert.ThrowsAsync<OriginFailedException>(() => Drain(run.ReadAsync(cursor)));
            Assert.Equal("origin broke", error.Message);
        }
        Assert.False(run.IsReplayable);
    }

    [Fact]
    public async Task Retire_WithAReader_ReleasesWhenTheReaderLeaves()
    {
        var budget = new ListCacheBudget(100);
        var run = new ListRun(cache: true, budget, lookahead: 1, DateTimeOffset.UnixEpoch);
        Assert.True(run.TryAttach(out var cursor));
        await run.AppendAsync(Chunk(5), CancellationToken.None);
        run.Complete(null);
        Assert.False(run.Retire());
        Assert.Equal(5, budget.Used);
        Assert.Single(await Drain(run.ReadAsync(cursor)));
        Assert.Equal(0, budget.Used);
        Assert.False(run.TryAttach(out _));
    }

    private static async Task<List<ListChunk>> Drain(IAsyncEnumerable<ListChunk> source)
    {
        var list = new List<ListChunk>();
        await foreach (var c in source)
            list.Add(c);
        return list;
    }
}
