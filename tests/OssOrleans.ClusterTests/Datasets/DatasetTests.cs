using System.Text;
using OssOrleans.Client;
using OssOrleans.Client.Datasets;
using OssOrleans.Client.Datasets.Tar;

namespace OssOrleans.ClusterTests.Datasets;

public sealed class DatasetFixture : IAsyncLifetime
{
    public TestCacheCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCacheCluster.StartAsync(silos: 3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Datasets over a 3-silo cluster. Each test uses its own prefix, so tests do not see each other's objects.</summary>
public sealed class DatasetTests(DatasetFixture fixture) : IClassFixture<DatasetFixture>
{
    private TestCacheCluster C => fixture.Cluster;

    private Dictionary<string, byte[]> PutSamples(string prefix, int count, int size = 4096)
    {
        var map = new Dictionary<string, byte[]>();
        for (int i = 0; i < count; i++)
        {
            string key = $"{prefix}{i:D4}.bin";
            map[key] = C.PutRandom(key, size + i, seed: i + 1);
        }
        return map;
    }

    [Fact]
    public async Task Map_FromPrefix_IndexerBatchAndTransformReturnPinnedBytes()
    {
        var samples = PutSamples("map1/", 40);

        var ds = await OssMapDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("map1/"));

        Assert.Equal(40, ds.Count);
        var first = ds[0]!;
        Assert.Equal(TestCacheCluster.Uri("map1/0000.bin"), first.Key);
        Assert.Equal(samples["map1/0000.bin"], first.Data.ToArray());
        using (var s = first.OpenStream())
            Assert.Equal(samples["map1/0000.bin"].Length, s.Length);

        var lengths = ds.WithTransform(item => item!.Data.Length);
        var batch = await lengths.GetItemsAsync([5, 3, 4, 39]);
        Assert.Equal(new[] { 5, 3, 4, 39 }.Select(i => 4096 + i), batch);
        var twice = await ds.GetItemsAsync([7, 7]);
        Assert.Equal(samples["map1/0007.bin"], twice[0]!.Data.ToArray());
        Assert.Equal(samples["map1/0007.bin"], twice[1]!.Data.ToArray());

        int n = 0;
        await foreach (var item in ds.EnumerateAsync())
        {
            Assert.Equal(samples[$"map1/{n:D4}.bin"], item!.Data.ToArray());
            n++;
        }
        Assert.Equal(40, n);
    }

    [Fact]
    public async Task Map_MissingObject_ReachesTransformAsNull_ChangedObject_FailsWithKey()
    {
        PutSamples("map2/", 3);
        var uris = new[] { "map2/0000.bin", "map2/0001.bin", "map2/0002.bin", "map2/never.bin" }.Select(TestCacheCluster.Uri).ToList();
        var ds = (await OssMapDataset.FromObjectsAsync(C.Client, uris)).WithTransform(item => item is null ? "missing" : item.Key);

        Assert.Equal(4, ds.Count);
        Assert.Equal("missing", await ds.GetAsync(3));

        // Deleted after the snapshot: a 404, so null. Overwritten after the snapshot: the pinned version is gone, so an error.
        C.Origin.DeleteObject(TestCacheCluster.Bucket, "map2/0001.bin");
        C.PutRandom("map2/0002.bin", 100, seed: 99);
        Assert.Equal("missing", await ds.GetAsync(1));
        var ex = await Assert.ThrowsAsync<DatasetItemException>(() => ds.GetAsync(2));
        Assert.Equal(TestCacheCluster.Uri("map2/0002.bin"), ex.Key);
        Assert.Contains("changed", ex.Reason, StringComparison.Ordinal);
        Assert.Equal(TestCacheCluster.Uri("map2/0000.bin"), await ds.GetAsync(0));
    }

    [Fact]
    public async Task Manifest_TabAndSpaceParsers_CarryLabels()
    {
        var samples = PutSamples("man/img/", 4);
        C.Origin.PutObject(TestCacheCluster.Bucket, "man/train.tsv", Encoding.UTF8.GetBytes("# key\tlabel\n0000.bin\tcat\n0002.bin\tdog\n\n0003.bin\n"));
        var tsv = await OssMapDataset.FromManifestAsync(C.Client, TestCacheCluster.Uri("man/train.tsv"), TestCacheCluster.Uri("man/img/"));
        Assert.Equal(3, tsv.Count);
        var items = await tsv.GetItemsAsync([0, 1, 2]);
        Assert.Equal(["cat", "dog", null], items.Select(i => i!.Label));
        Assert.Equal(samples["man/img/0002.bin"], items[1]!.Data.ToArray());

        string local = Path.Combine(Path.GetTempPath(), $"ossorleans-manifest-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(local, "0001.bin 7\n0003.bin   8\n");
        try
        {
            var space = await OssIterableDataset.FromManifestAsync(C.Client, local, TestCacheCluster.Uri("man/img/"), ManifestParser.SpaceSeparated);
            var labels = new List<string?>();
            await foreach (var item in space)
                labels.Add(item!.Label);
            Assert.Equal(["7", "8"], labels);
        }
        finally
        {
            File.Delete(local);
        }
    }

    [Fact]
    public async Task Snapshot_ObjectsAddedMidEpoch_EveryRankSeesTheSamePinnedItems()
    {
        PutSamples("snap/", 10);
        var options = new DatasetOptions { SnapshotName = "job-1" };
        var rank0 = await OssIterableDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("snap/"), options);
        var rank0Map = await OssMapDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("snap/"), options);

        // Objects arrive during the epoch (between 0003 and 0004 in key order, and at the end); the list cache expires too.
        C.PutRandom("snap/0003a.bin", 500);
        C.PutRandom("snap/0010.bin", 500);
        C.Clock.Advance(TimeSpan.FromMinutes(5));

        var other = OssCacheClient.FromClusterClient(C.Cluster.Client);
        await using var _ = other;
        var rank1Map = await OssMapDataset.FromPrefixAsync(other, TestCacheCluster.Uri("snap/"), options);
        var rank1 = await OssIterableDataset.FromPrefixAsync(other, TestCacheCluster.Uri("snap/"), options);

        Assert.Equal(rank0.SnapshotId, rank1.SnapshotId);
        Assert.Equal(10, rank0.TotalCount);
        Assert.Equal(10, rank1Map.Count);
        for (int i = 0; i < 10; i++)
            Assert.Equal(rank0Map.Describe(i), rank1Map.Describe(i));
        var keys0 = new List<string>();
        await foreach (var item in rank0.ForShard(0, 2))
            keys0.Add(item!.Key);
        var keys1 = new List<string>();
        await foreach (var item in rank1.ForShard(1, 2))
            keys1.Add(item!.Key);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => TestCacheCluster.Uri($"snap/{i:D4}.bin")), keys0.Concat(keys1).Order(StringComparer.Ordinal));

        // A new snapshot name takes a fresh snapshot, which sees the new objects.
        var fresh = await OssMapDataset.FromPrefixAsync(other, TestCacheCluster.Uri("snap/"), new DatasetOptions { SnapshotName = "job-2" });
        Assert.Equal(12, fresh.Count);
        Assert.Equal("snap/0003a.bin", fresh.Describe(4).Key);
    }

    [Fact]
    public async Task Iterable_ShuffledShards_EverySampleExactlyOncePerEpoch_SameSeedSameOrder()
    {
        var samples = PutSamples("iter/", 60, size: 1000);
        var baseOptions = new DatasetOptions { Shuffle = true, Seed = 11, ChunkSize = 7 };
        var ds = await OssIterableDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("iter/"), baseOptions);

        for (int epoch = 0; epoch < 2; epoch++)
        {
            var seen = new Dictionary<string, int>();
            var orders = new List<List<string>>();
            for (int rank = 0; rank < 2; rank++)
            {
                for (int worker = 0; worker < 2; worker++)
                {
                    var order = new List<string>();
                    await foreach (var item in ds.ForShard(rank, 2, worker, 2).ReadEpochAsync(epoch))
                    {
                        string key = item!.Key["oss://cluster-tests/".Length..];
                        Assert.Equal(samples[key], item.Data.ToArray());
                        seen[key] = seen.GetValueOrDefault(key) + 1;
                        order.Add(key);
                    }
                    orders.Add(order);
                }
            }
            Assert.Equal(60, seen.Count);
            Assert.All(seen.Values, n => Assert.Equal(1, n));

            var again = new List<string>();
            await foreach (var item in ds.ForShard(1, 2, 0, 2).ReadEpochAsync(epoch))
                again.Add(item!.Key["oss://cluster-tests/".Length..]);
            Assert.Equal(orders[2], again);
            Assert.NotEqual(orders[2].Order(StringComparer.Ordinal), orders[2]);
        }
    }

    [Fact]
    public async Task Iterable_TwoReadersAtOnce_EachSampleFetchedFromOriginOnce()
    {
        PutSamples("once/", 150, 3000);
        var ds = await OssIterableDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("once/"), new DatasetOptions { ChunkSize = 16, Shuffle = true });
        var other = OssCacheClient.FromClusterClient(C.Cluster.Client);
        await using var _ = other;
        var ds2 = await OssIterableDataset.FromPrefixAsync(other, TestCacheCluster.Uri("once/"), new DatasetOptions { ChunkSize = 16, Shuffle = true, Seed = 5 });
        await C.QuiesceAsync();
        long before = C.Origin.Counters.Gets;

        var counts = await Task.WhenAll(CountAsync(ds), CountAsync(ds2));

        Assert.Equal([150, 150], counts);
        Assert.Equal(150, C.Origin.Counters.Gets - before);

        static async Task<int> CountAsync(OssIterableDataset<DatasetItem?> d)
        {
            int n = 0;
            await foreach (var item in d)
                n += item is null ? 0 : 1;
            return n;
        }
    }

    [Fact]
    public async Task Tar_FromIndexAndFromScan_SameItems_ContiguousBatchIsOneRangeRead()
    {
        var (tarKey, files) = await PutTarAsync("tar1/", 30, 10_000);
        var withIndex = await OssMapDataset.FromTarAsync(C.Client, TestCacheCluster.Uri(tarKey), TestCacheCluster.Uri(tarKey + ".index"));
        var scanned = await OssMapDataset.FromTarAsync(C.Client, TestCacheCluster.Uri(tarKey));
        Assert.Equal(files.Count, withIndex.Count);
        Assert.Equal(files.Count, scanned.Count);
        for (int i = 0; i < files.Count; i++)
            Assert.Equal(withIndex.Describe(i), scanned.Describe(i));

        // A fresh copy of the tar, so nothing of it is cached: 8 contiguous members (80 KB, inside the first 1 MiB shard) cost one GET.
        C.Origin.PutObject(TestCacheCluster.Bucket, tarKey + ".copy", C.Origin.GetObjectBytes(TestCacheCluster.Bucket, tarKey)!);
        var copy = await OssMapDataset.FromTarAsync(C.Client, TestCacheCluster.Uri(tarKey + ".copy"), TestCacheCluster.Uri(tarKey + ".index"));
        await C.QuiesceAsync();
        long before = C.Origin.Counters.Gets;
        var batch = await copy.GetItemsAsync([.. Enumerable.Range(2, 8)]);
        Assert.Equal(1, C.Origin.Counters.Gets - before);
        for (int k = 0; k < 8; k++)
        {
            Assert.Equal(files[2 + k].Name, batch[k]!.Key);
            Assert.Equal(files[2 + k].Data, batch[k]!.Data.ToArray());
        }

        var iterable = await OssIterableDataset.FromTarAsync(C.Client, TestCacheCluster.Uri(tarKey), TestCacheCluster.Uri(tarKey + ".index"),
            new DatasetOptions { Shuffle = true, Seed = 3, ChunkSize = 4 });
        var seen = new HashSet<string>();
        await foreach (var item in iterable)
        {
            Assert.True(seen.Add(item!.Key));
            Assert.Equal(files.Single(f => f.Name == item.Key).Data, item.Data.ToArray());
        }
        Assert.Equal(files.Count, seen.Count);
    }

    [Fact]
    public async Task Items_Disposed_TheirBuffersAreReused_AndLaterItemsStillCarryExactlyTheirBytes()
    {
        var samples = PutSamples("reuse/", 48, 5000);
        var (tarKey, files) = await PutTarAsync("reuse-tar/", 24, 6000);
        var objects = await OssIterableDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("reuse/"),
            new DatasetOptions { Shuffle = true, Seed = 5, ChunkSize = 8, ItemBufferPoolBytes = 1 << 20 });
        var tar = await OssIterableDataset.FromTarAsync(C.Client, TestCacheCluster.Uri(tarKey), TestCacheCluster.Uri(tarKey + ".index"),
            new DatasetOptions { Shuffle = true, Seed = 5, ChunkSize = 4, ItemBufferPoolBytes = 1 << 20 });

        // Two epochs each: the second is read into buffers the first gave back.
        for (int epoch = 0; epoch < 2; epoch++)
        {
            int n = 0;
            await foreach (var item in objects.ReadEpochAsync(epoch))
            {
                Assert.Equal(samples[item!.Key[(TestCacheCluster.Uri("").Length)..]], item.Data.ToArray());
                item.Dispose();
                item.Dispose();
                Assert.Throws<ObjectDisposedException>(() => item.Data);
                Assert.Throws<ObjectDisposedException>(() => item.OpenStream());
                n++;
            }
            Assert.Equal(48, n);
            Assert.InRange(objects.Buffers.RetainedBytes, 8192, 1 << 20);

            await foreach (var item in tar.ReadEpochAsync(epoch))
            {
                Assert.Equal(files.Single(f => f.Name == item!.Key).Data, item!.Data.ToArray());
                item.Dispose();
            }
            Assert.InRange(tar.Buffers.RetainedBytes, 8192, 1 << 20);
        }

        var unpooled = await OssIterableDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("reuse/"),
            new DatasetOptions { SnapshotName = "unpooled", ItemBufferPoolBytes = 0 });
        await foreach (var item in unpooled)
        {
            Assert.Equal(samples[item!.Key[(TestCacheCluster.Uri("").Length)..]], item.Data.ToArray());
            item.Dispose();
        }
        Assert.Equal(0, unpooled.Buffers.RetainedBytes);
    }

    [Fact]
    public async Task Batch_SmallAndNearShardSizedSamplesMixed_EachArrivesWhole()
    {
        // One batch response carries samples written without a flush each, flushed every 512 KiB, and samples sent on
        // their own (512 KiB and more, up to the 1 MiB shard size): their order and bounds must survive the mix.
        var samples = new Dictionary<string, byte[]>();
        int[] sizes = [3000, 700_000, 1 << 20, 100, 520_000, 0, 64_000, 900_000, 5];
        for (int i = 0; i < sizes.Length; i++)
            samples[$"mixed/{i:D2}.bin"] = C.PutRandom($"mixed/{i:D2}.bin", sizes[i], seed: 40 + i);

        var ds = await OssMapDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("mixed/"));
        var all = await ds.GetItemsAsync([.. Enumerable.Range(0, sizes.Length)]);
        var again = await ds.GetItemsAsync([8, 1, 0, 2, 7]);
        for (int i = 0; i < sizes.Length; i++)
            Assert.Equal(samples[$"mixed/{i:D2}.bin"], all[i]!.Data.ToArray());
        Assert.Equal(samples["mixed/08.bin"], again[0]!.Data.ToArray());
        Assert.Equal(samples["mixed/02.bin"], again[3]!.Data.ToArray());
        Assert.Equal(samples["mixed/07.bin"], again[4]!.Data.ToArray());
    }

    [Fact]
    public async Task TarTools_FromPrefix_AndIndexOfTarObject_MatchTheObjects()
    {
        var samples = PutSamples("tools/src/", 12, 3000);
        var dir = Directory.CreateTempSubdirectory("ossorleans-tartools-");
        try
        {
            string tarPath = Path.Combine(dir.FullName, "x.tar");
            var result = await TarTools.CreateFromPrefixAsync(C.Client, TestCacheCluster.Uri("tools/src/"), tarPath);
            Assert.Equal(12, result.Members);
            C.Origin.PutObject(TestCacheCluster.Bucket, "tools/x.tar", await File.ReadAllBytesAsync(tarPath));

            string remoteIndex = Path.Combine(dir.FullName, "remote.index");
            var indexed = await TarTools.CreateIndexAsync(C.Client, TestCacheCluster.Uri("tools/x.tar"), remoteIndex);
            Assert.Equal(12, indexed.Members);
            Assert.Equal(await File.ReadAllTextAsync(TarTools.DefaultIndexPath(tarPath)), await File.ReadAllTextAsync(remoteIndex));

            var ds = await OssMapDataset.FromTarAsync(C.Client, TestCacheCluster.Uri("tools/x.tar"), remoteIndex);
            var items = await ds.GetItemsAsync([.. Enumerable.Range(0, 12)]);
            foreach (var item in items)
                Assert.Equal(samples["tools/src/" + item!.Key], item.Data.ToArray());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ReadAhead_HoldsAtMostTheWindow_AndClusterPrefetchStopsAtItsDistance()
    {
        PutSamples("ahead/", 80, 2000);
        var options = new DatasetOptions { ReadAheadItems = 3, ClusterPrefetchItems = 10, ChunkSize = 1 };
        var ds = await OssIterableDataset.FromPrefixAsync(C.Client, TestCacheCluster.Uri("ahead/"), options);
        ds.Stats = new ReadAheadStats();
        await C.QuiesceAsync();
        long before = C.Origin.Counters.Gets;

        await using (var e = ds.GetAsyncEnumerator())
        {
            Assert.True(await e.MoveNextAsync());
            // The consumer stalls on the first item: the window (3) and the cluster prefetch (10 more) load, and nothing else.
            await WaitUntilAsync(() => C.Origin.Counters.Gets - before >= 13, "13 origin GETs (window 3 + prefetch 10)");
            await Task.Delay(300);
            Assert.Equal(13, C.Origin.Counters.Gets - before);
            int n = 1;
            while (await e.MoveNextAsync())
                n++;
            Assert.Equal(80, n);
        }
        Assert.InRange(ds.Stats.PeakItems, 1, 3);
        Assert.InRange(ds.Stats.PeakBytes, 1, 3 * 2100);
        Assert.Equal(80, C.Origin.Counters.Gets - before);
    }

    private async Task<(string TarKey, List<(string Name, byte[] Data)> Files)> PutTarAsync(string prefix, int count, int size)
    {
        var dir = Directory.CreateTempSubdirectory("ossorleans-tar-");
        try
        {
            var files = new List<(string, byte[])>();
            var src = Directory.CreateDirectory(Path.Combine(dir.FullName, "src"));
            var rng = new Random(count);
            for (int i = 0; i < count; i++)
            {
                var data = new byte[size + i];
                rng.NextBytes(data);
                string name = $"m/{i:D4}.bin";
                Directory.CreateDirectory(Path.Combine(src.FullName, "m"));
                await File.WriteAllBytesAsync(Path.Combine(src.FullName, "m", $"{i:D4}.bin"), data);
                files.Add((name, data));
            }
            string tarPath = Path.Combine(dir.FullName, "data.tar");
            await TarTools.CreateFromFolderAsync(src.FullName, tarPath);
            C.Origin.PutObject(TestCacheCluster.Bucket, prefix + "data.tar", await File.ReadAllBytesAsync(tarPath));
            C.Origin.PutObject(TestCacheCluster.Bucket, prefix + "data.tar.index", await File.ReadAllBytesAsync(TarTools.DefaultIndexPath(tarPath)));
            return (prefix + "data.tar", files);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"waited 30 s for {what}");
            await Task.Delay(20);
        }
    }
}

/// <summary>The dataset grain's build lease and paging, through the grain itself.</summary>
public sealed class DatasetGrainTests(DatasetFixture fixture) : IClassFixture<DatasetFixture>
{
    private TestCacheCluster C => fixture.Cluster;

    [Fact]
    public async Task Open_SecondRankWaits_UntilTheLeaseOfADeadBuilderExpires()
    {
        var grain = C.Cluster.Client.GetGrain<IDatasetGrain>(DatasetKeys.ForSource(CallProof.AnonymousTenant, "lease-test"));
        Assert.Equal(DatasetOpenState.Build, (await grain.OpenAsync("rank-0", 60)).State);
        await grain.AppendAsync("rank-0", [new DatasetItemRecord("half", 1, "e", null)]);
        Assert.Equal(DatasetOpenState.Wait, (await grain.OpenAsync("rank-1", 60)).State);

        C.Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(DatasetOpenState.Build, (await grain.OpenAsync("rank-1", 60)).State);
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => grain.AppendAsync("rank-0", [new DatasetItemRecord("late", 1, "e", null)]));
        var sealedInfo = await grain.CompleteAsync("rank-1", "b", null, null, 0, TimeSpan.FromMinutes(1));

        // The dead builder's half-appended item is gone: only what rank-1 appended (nothing) is sealed.
        Assert.Equal(0, sealedInfo.Count);
        Assert.Equal(DatasetOpenState.Ready, (await grain.OpenAsync("rank-2", 60)).State);
    }

    [Fact]
    public async Task Snapshot_LargerThanAPage_IsPagedInWhole()
    {
        var grain = C.Cluster.Client.GetGrain<IDatasetGrain>(DatasetKeys.ForSource(CallProof.AnonymousTenant, "paging-test"));
        Assert.Equal(DatasetOpenState.Build, (await grain.OpenAsync("r", 60)).State);
        for (int page = 0; page < 3; page++)
            await grain.AppendAsync("r", [.. Enumerable.Range(page * 10_000, page == 2 ? 5_000 : 10_000).Select(i => new DatasetItemRecord($"k/{i:D6}", i, "e", null))]);
        var info = await grain.CompleteAsync("r", "b", null, null, 0, TimeSpan.FromMinutes(1));

        Assert.Equal(25_000, info.Count);
        Assert.Equal(3, info.PageCount);
        var last = await grain.GetPageAsync(2);
        Assert.Equal(5_000, last.Length);
        Assert.Equal("k/024999", last[^1].Key);
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => grain.GetPageAsync(3));
    }
}
