using System.Collections.Concurrent;
using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests.Checkpoints;

/// <summary>Warm jobs over the shared 3-silo checkpoint cluster.</summary>
[Collection(CheckpointCollection.Name)]
public sealed class WarmJobTests(CheckpointFixture fixture)
{
    private TestCacheCluster C => fixture.Cluster;

    [Fact]
    public async Task Warm_Prefix_PrefetchesEveryObjectInKeyOrder_AndTwiceFetchesNothing()
    {
        var keys = new[] { "warm/m/d.bin", "warm/m/a.bin", "warm/m/sub/c.bin", "warm/m/b.bin" };
        long total = 0;
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
            total += C.PutRandom(key, (2 << 20) + i * 1000, seed: 40 + i).Length;
        var firstGets = new ConcurrentQueue<string>();
        // An object's shards are fetched in parallel: check-and-add under a lock, or two shards both count as "first".
        C.Origin.OnRequest = r =>
        {
            if (r.Method != "GET" || !r.Key.StartsWith("warm/m/", StringComparison.Ordinal))
                return;
            lock (firstGets)
            {
                if (!firstGets.Contains(r.Key))
                    firstGets.Enqueue(r.Key);
            }
        };
        C.Origin.ResetCounters();
        WarmJobProgress done;
        try
        {
            var job = await C.Client.WarmAsync(TestCacheCluster.Uri("warm/m/"), new WarmOptions { ObjectConcurrency = 1 });
            var seen = new List<WarmJobProgress>();
            done = await job.WaitAsync(new SyncProgress(seen), pollInterval: TimeSpan.FromMilliseconds(20));
        }
        finally
        {
            C.Origin.OnRequest = null;
        }

        Assert.Equal(WarmJobState.Completed, done.State);
        Assert.Equal((4, 4, total, total), (done.ObjectsDone, done.ObjectsTotal, done.BytesDone, done.BytesTotal));
        Assert.True(done.BytesPerSecond > 0);
        Assert.Equal(TimeSpan.Zero, done.Eta);
        Assert.Equal(keys.Order(StringComparer.Ordinal), firstGets);
        Assert.Equal(total, C.Origin.Counters.GetBodyBytes);

        // Every byte is in the cluster: a second job and a read fetch nothing.
        C.Origin.ResetCounters();
        var again = await (await C.Client.WarmAsync(TestCacheCluster.Uri("warm/m/"))).WaitAsync();
        Assert.Equal(WarmJobState.Completed, again.State);
        await using (var s = await C.Client.OpenReadAsync(TestCacheCluster.Uri("warm/m/b.bin")))
            await s.CopyToAsync(Stream.Null);
        Assert.Equal(0, C.Origin.Counters.Gets);

        var listed = await C.Client.ListWarmJobsAsync();
        Assert.Contains(listed, p => p.JobId == done.JobId && p.State == WarmJobState.Completed && p.BytesDone == total);
    }

    [Fact]
    public async Task Warm_Cancel_StopsTheJob()
    {
        for (int i = 0; i < 30; i++)
            C.PutRandom($"warm-cancel/m/{i:D2}.bin", 1 << 20, seed: 60 + i);
        C.Origin.Settings.FirstByteLatency = TimeSpan.FromMilliseconds(50);
        try
        {
            var job = await C.Client.WarmAsync(TestCacheCluster.Uri("warm-cancel/m"), new WarmOptions { ObjectConcurrency = 1 });
            WarmJobProgress p;
            do
            {
                p = await job.GetProgressAsync();
            }
            while (p.ObjectsDone < 2 && !p.IsFinished);
            var cancelled = await job.CancelAsync();

            Assert.Equal(WarmJobState.Cancelled, cancelled.State);
            Assert.True(cancelled.ObjectsDone < 30, $"{cancelled.ObjectsDone} objects were warmed");
            long getsAfterCancel = C.Origin.Counters.Gets;
            await Task.Delay(300);
            Assert.Equal(getsAfterCancel, C.Origin.Counters.Gets);
            Assert.Equal(WarmJobState.Cancelled, (await C.Client.GetWarmJob(job.JobId).GetProgressAsync()).State);
        }
        finally
        {
            C.Origin.Settings.FirstByteLatency = TimeSpan.Zero;
        }
    }

    private sealed class SyncProgress(List<WarmJobProgress> seen) : IProgress<WarmJobProgress>
    {
        public void Report(WarmJobProgress value) => seen.Add(value);
    }
}
