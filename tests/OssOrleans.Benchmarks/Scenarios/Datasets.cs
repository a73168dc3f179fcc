using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using OssOrleans.Client;
using OssOrleans.Client.Datasets;
using OssOrleans.Client.Datasets.Tar;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.Benchmarks.Scenarios;

/// <summary>
/// Datasets of 128 KiB samples from the OSS-like simulator: an epoch through the cluster against direct GetObject calls
/// at the same concurrency, a second (cached) epoch, and the same samples packed in a tar.
/// </summary>
internal static class Datasets
{
    private const int SampleSize = 128 << 10;
    private const int Workers = 4;

    // First epochs measured per scenario, each over fresh keys: a cold epoch happens once per copy of the data.
    private const int ColdRepeats = 3;

    // Small samples are latency-bound at the origin (20 ms each): the silo needs many requests in flight to approach the
    // aggregate cap, so these runs raise Cache:MaxOriginConcurrency from its default of 16.
    private const int OriginConcurrency = 128;

    private static DatasetOptions Options() => new()
    {
        Shuffle = true,
        Seed = 1,
        WorkerCount = Workers,
        ChunkSize = 64,
        ReadAheadItems = 256,
        ReadAheadBytes = 32L << 20,
        ClusterPrefetchItems = 128,
    };

    public static async Task<BenchReport> EpochAsync(bool quick)
    {
        var report = new BenchReport("dataset-epoch", quick);
        int samples = quick ? 5_000 : 20_000;
        var settings = SimulatorSettings.OssIntranetLike;
        await using var c = await StartAsync(settings, quick, tar: false);
        var keys = PutSamples(c, "epoch/", samples);

        var ds = await OssIterableDataset.FromPrefixAsync(c.Client, $"oss://{BenchCluster.Bucket}/epoch/", Options());
        if (ds.TotalCount != samples)
            throw new InvalidOperationException($"the dataset has {ds.TotalCount} items, expected {samples}");

        c.Origin.ResetCounters();
        var cpu = new CpuMeter(c.Silo.ProcessId);
        var epoch1Times = new List<double> { await ReadEpochAsync(ds, epoch: 0, samples) };
        double epoch1Cpu = cpu.Take();
        long originBytes1 = c.Origin.Counters.GetBodyBytes;
        var epoch2Times = new List<double>();
        for (int e = 1; e <= 3; e++)
            epoch2Times.Add(await ReadEpochAsync(ds, epoch: e, samples));
        epoch2Times.Sort();
        double epoch2 = epoch2Times[1];
        double epoch2Cpu = cpu.Take() / 3;
        long originBytes2 = c.Origin.Counters.GetBodyBytes - originBytes1;

        // Map-style random access over the cached samples: a sampler's random permutation, fetched in batches of 64 by
        // Workers loaders at once, as a DataLoader with a random sampler does.
        var map = await OssMapDataset.FromPrefixAsync(c.Client, $"oss://{BenchCluster.Bucket}/epoch/", Options());
        var permutation = Enumerable.Range(0, samples).OrderBy(i => (i * 2654435761u) % (uint)samples).ToArray();
        cpu.Take();
        var mapWatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(permutation.Chunk(64), new ParallelOptions { MaxDegreeOfParallelism = Workers }, async (batch, ct) =>
        {
            var items = await map.GetItemsAsync(batch, ct);
            if (items.Any(i => i is null || i.Size != SampleSize))
                throw new InvalidOperationException("a map-style batch returned a missing or short sample");
            foreach (var item in items)
                item!.Dispose();
        });
        double mapSeconds = mapWatch.Elapsed.TotalSeconds;
        double mapCpu = cpu.Take();

        // The same cached epoch with one shard grain call per sample instead of one run-grain call per chunk: CPU seconds
        // are what this 2-core machine runs out of, and they do not depend on what else runs on it.
        var shardPath = await OssIterableDataset.FromPrefixAsync(c.Client, $"oss://{BenchCluster.Bucket}/epoch/", WithoutRunGrains());
        await ReadEpochAsync(shardPath, epoch: 4, samples); // Loads the samples under their shard grains' keys.
        cpu.Take();
        double shardPathSeconds = await ReadEpochAsync(shardPath, epoch: 5, samples);
        double shardPathCpu = cpu.Take();

        // Direct GetObject per sample from Workers concurrent readers (the dataset's consumer concurrency), on a part of
        // the samples (at 20 ms each a full pass would take minutes), and with about as many requests in flight as
        // the dataset's read-ahead (Workers x 64), for reference.
        using var direct = new S3ObjectStore(new S3StoreOptions { Endpoint = c.Origin.Endpoint.ToString(), AccessKeyId = "bench", AccessKeySecret = "bench", MaxConnections = 256 });
        string etag = c.Origin.HeadObject(BenchCluster.Bucket, keys[0])!.ETag;
        int directSamples = Math.Min(samples, quick ? 1_000 : 2_000);
        double directSeconds = await DirectAsync(direct, keys, etag, directSamples, Workers);
        cpu.Take();
        double directWideSeconds = await DirectAsync(direct, keys, etag, samples, Workers * 64);
        double directWideCpu = cpu.Take();

        // Two more first epochs, each over a fresh copy of the samples (new keys, nothing cached), for a median of three
        // cold epochs. Last, so that their loads cannot evict what the runs above read.
        for (int r = 1; r < ColdRepeats; r++)
        {
            PutSamples(c, $"epoch-r{r}/", samples);
            var fresh = await OssIterableDataset.FromPrefixAsync(c.Client, $"oss://{BenchCluster.Bucket}/epoch-r{r}/", Options());
            cpu.Take();
            epoch1Times.Add(await ReadEpochAsync(fresh, epoch: 0, samples));
            epoch1Cpu += cpu.Take();
        }
        epoch1Times.Sort();
        double epoch1 = epoch1Times[ColdRepeats / 2];
        epoch1Cpu /= ColdRepeats;

        double bytes = (double)samples * SampleSize;
        double epoch1Bps = bytes / epoch1, epoch2Bps = bytes / epoch2;
        double directBps = (double)directSamples * SampleSize / directSeconds, directWideBps = bytes / directWideSeconds;
        report.Setting("samples", quick ? $"{samples} (quick mode; the full run uses 20000)" : samples.ToString(System.Globalization.CultureInfo.InvariantCulture));
        report.Setting("sample_bytes", SampleSize);
        report.Setting("origin", settings.ToString());
        report.Setting("silo", $"1 process, Cache:CapacityBytes={CacheCapacity(quick, tar: false) >> 30} GiB (full from the second repetition on), Cache:MaxOriginConcurrency={OriginConcurrency}");
        report.Setting("consumer", $"OssIterableDataset, {Workers} workers, shuffle, chunks of 64, ReadAheadBytes=32 MiB, ClusterPrefetchItems=128 per worker; each sample disposed after use (its buffer reused)");
        report.Setting("runs", $"epoch 1: median of {ColdRepeats} first epochs, each over its own copy of the samples (fresh keys); epoch 2: median of 3 (epochs 1-3 of the first copy)");
        report.Figure("epoch1_mbps", epoch1Bps / 1e6, "MB/s", $"first epoch, all samples from the origin (median of {ColdRepeats})");
        report.Figure("epoch2_mbps", epoch2Bps / 1e6, "MB/s", "later epochs, from the cluster's cache");
        report.Figure("direct_get_mbps", directBps / 1e6, "MB/s", $"GetObject per sample, {Workers} in flight, {directSamples} samples");
        report.Figure("direct_get_wide_mbps", directWideBps / 1e6, "MB/s", $"GetObject per sample, {Workers * 64} in flight (reference)");
        report.Figure("origin_bytes_epoch1", originBytes1, "bytes", $"first copy's first epoch; samples total {samples * (long)SampleSize}");
        report.Figure("origin_bytes_epoch2", originBytes2, "bytes", "three cached epochs (should be 0)");
        report.Figure("epoch1_cpu_us_per_sample", epoch1Cpu / samples * 1e6, "us", "CPU of the benchmark process (client + simulator) and the silo");
        report.Figure("epoch2_cpu_us_per_sample", epoch2Cpu / samples * 1e6, "us", "same, cached epoch");
        report.Figure("direct_get_wide_cpu_us_per_sample", directWideCpu / samples * 1e6, "us", "the benchmark process (direct client + simulator); the silo idles");
        report.Figure("map_random_batches_mbps", bytes / mapSeconds / 1e6, "MB/s", $"OssMapDataset, random order, batches of 64, {Workers} at once, cached");
        report.Figure("map_random_batches_cpu_us_per_sample", mapCpu / samples * 1e6, "us", "same");
        report.Figure("epoch2_shard_path_mbps", bytes / shardPathSeconds / 1e6, "MB/s", "cached epoch, one shard grain call per sample");
        report.Figure("epoch2_shard_path_cpu_us_per_sample", shardPathCpu / samples * 1e6, "us", "same");
        report.Ratio("epoch1_vs_cap", epoch1Bps / settings.AggregateBytesPerSecond, "of the origin's aggregate cap");
        report.Ratio("epoch1_vs_direct_get", epoch1Bps / directBps, $"direct GetObject with {Workers} in flight");
        report.Ratio("epoch1_vs_direct_get_wide", epoch1Bps / directWideBps, $"direct GetObject with {Workers * 64} in flight");
        report.Ratio("epoch2_vs_epoch1", epoch2Bps / epoch1Bps);
        return report;
    }

    public static async Task<BenchReport> TarAsync(bool quick)
    {
        var report = new BenchReport("tar-dataset", quick);
        int samples = quick ? 5_000 : 20_000;
        var settings = SimulatorSettings.OssIntranetLike;
        await using var c = await StartAsync(settings, quick, tar: true);
        var (tarSegments, index) = BuildTar(samples);
        c.Origin.PutObject(BenchCluster.Bucket, "tar/all.tar.index", index);

        // Three pairs of first epochs, each over its own copy of the samples and of the tar (nothing cached), in alternating
        // order; the ratio is of the medians.
        var objectsTimes = new List<double>();
        var tarTimes = new List<double>();
        double objectsCpu = 0, tarCpu = 0;
        long objectsGets = 0, tarGets = 0;
        OssIterableDataset<DatasetItem?>? tar = null;
        var cpu = new CpuMeter(c.Silo.ProcessId);
        for (int r = 0; r < ColdRepeats; r++)
        {
            PutSamples(c, $"objects{r}/", samples);
            c.Origin.PutObject(BenchCluster.Bucket, $"tar/all{r}.tar", tarSegments);
            var objects = await OssIterableDataset.FromPrefixAsync(c.Client, $"oss://{BenchCluster.Bucket}/objects{r}/", Options());
            tar = await OssIterableDataset.FromTarAsync(c.Client, $"oss://{BenchCluster.Bucket}/tar/all{r}.tar", $"oss://{BenchCluster.Bucket}/tar/all.tar.index", Options());
            if (objects.TotalCount != samples || tar.TotalCount != samples)
                throw new InvalidOperationException($"datasets have {objects.TotalCount} and {tar.TotalCount} items, expected {samples}");
            foreach (bool objectsNow in r % 2 == 0 ? new[] { true, false } : [false, true])
            {
                long gets = c.Origin.Counters.Gets;
                cpu.Take();
                double seconds = await ReadEpochAsync(objectsNow ? objects : tar, 0, samples);
                double used = cpu.Take();
                (objectsNow ? objectsTimes : tarTimes).Add(seconds);
                if (objectsNow)
                    (objectsCpu, objectsGets) = (objectsCpu + used, objectsGets + c.Origin.Counters.Gets - gets);
                else
                    (tarCpu, tarGets) = (tarCpu + used, tarGets + c.Origin.Counters.Gets - gets);
            }
        }
        tarSegments.Clear();
        objectsTimes.Sort();
        tarTimes.Sort();
        double objectsSeconds = objectsTimes[ColdRepeats / 2], tarSeconds = tarTimes[ColdRepeats / 2];
        objectsCpu /= ColdRepeats;
        tarCpu /= ColdRepeats;
        cpu.Take();
        double tarHot = await ReadEpochAsync(tar!, 1, samples);
        double tarHotCpu = cpu.Take();

        double bytes = (double)samples * SampleSize;
        report.Setting("samples", quick ? $"{samples} (quick mode; the full run uses 20000)" : samples.ToString(System.Globalization.CultureInfo.InvariantCulture));
        report.Setting("origin", settings.ToString());
        report.Setting("silo", $"1 process, Cache:CapacityBytes={CacheCapacity(quick, tar: true) >> 30} GiB (full from the second repetition on), Cache:MaxOriginConcurrency={OriginConcurrency}, 8 MiB shards");
        report.Setting("consumer", $"OssIterableDataset, {Workers} workers, chunk shuffle (tar chunks ~64 members, Gaussian sizes), same read-ahead; each sample disposed after use");
        report.Setting("runs", $"median of {ColdRepeats} first epochs each, objects and tar alternating, each over its own copy (fresh keys); cached tar epoch once");
        report.Figure("objects_epoch1_mbps", bytes / objectsSeconds / 1e6, "MB/s", "one object per sample");
        report.Figure("tar_epoch1_mbps", bytes / tarSeconds / 1e6, "MB/s", "one range read per chunk of the tar");
        report.Figure("tar_epoch2_mbps", bytes / tarHot / 1e6, "MB/s", "cached");
        report.Figure("objects_epoch1_cpu_us_per_sample", objectsCpu / samples * 1e6, "us", "benchmark process (client + simulator) and silo");
        report.Figure("tar_epoch1_cpu_us_per_sample", tarCpu / samples * 1e6, "us", "same");
        report.Figure("tar_epoch2_cpu_us_per_sample", tarHotCpu / samples * 1e6, "us", "same");
        report.Figure("objects_origin_requests", objectsGets / ColdRepeats, "GETs", "per first epoch");
        report.Figure("tar_origin_requests", tarGets / ColdRepeats, "GETs", "per first epoch");
        report.Ratio("tar_vs_objects_epoch1", objectsSeconds / tarSeconds);
        report.Ratio("tar_vs_objects_epoch1_cpu", objectsCpu / tarCpu, "CPU per sample, objects over tar (less sensitive to other load)");
        return report;
    }

    private static DatasetOptions WithoutRunGrains()
    {
        var o = Options();
        o.UseRunGrains = false;
        o.SnapshotName = "shard-path";
        return o;
    }

    /// <summary>CPU seconds used by this process and the silo process since the last call.</summary>
    private sealed class CpuMeter(int siloPid)
    {
        private double _last = Now(siloPid);

        public double Take()
        {
            double now = Now(siloPid);
            double d = now - _last;
            _last = now;
            return d;
        }

        private static double Now(int pid)
        {
            using var silo = Process.GetProcessById(pid);
            using var me = Process.GetCurrentProcess();
            return silo.TotalProcessorTime.TotalSeconds + me.TotalProcessorTime.TotalSeconds;
        }
    }

    /// <summary>
    /// The silo's cache is smaller than the whole run, so later repetitions find it full and reuse evicted memory, as a
    /// long-running cache does, instead of touching fresh pages the whole time; it still holds what a measurement reads
    /// again (cached epochs read right after their data was loaded). dataset-epoch keeps two copies of the samples for
    /// its cached runs (quick 2 GiB, full 6 GiB); tar-dataset only the last tar (quick 2 GiB, full 3 GiB: its last
    /// repetition reads the tar after the objects).
    /// </summary>
    private static long CacheCapacity(bool quick, bool tar) => quick ? 2L << 30 : tar ? 3L << 30 : 6L << 30;

    private static async Task<BenchCluster> StartAsync(SimulatorSettings settings, bool quick, bool tar)
    {
        // ReadAheadShards sizes the client's shard buffer pool: tar chunks from 4 workers keep about 16 shards in flight, and
        // a pool miss costs fresh pages (expensive on this VM, see the cold-read notes).
        var c = await BenchCluster.StartAsync(settings, cacheCapacity: CacheCapacity(quick, tar), BenchCluster.ClientOptions(readAhead: 16), extraArgs: [$"--Cache:MaxOriginConcurrency={OriginConcurrency}", $"--Origin:S3:MaxConnections={2 * OriginConcurrency}"]);
        // Both dataset paths once, cold and cached, on a small set, so that the JIT has settled in both processes.
        PutSamples(c, "warmup-ds/", 512);
        foreach (var o in new[] { Options(), WithoutRunGrains() })
        {
            var warm = await OssIterableDataset.FromPrefixAsync(c.Client, $"oss://{BenchCluster.Bucket}/warmup-ds/", o);
            await ReadEpochAsync(warm, 0, 512);
            await ReadEpochAsync(warm, 1, 512);
        }
        c.Origin.ResetCounters();
        return c;
    }

    private static List<string> PutSamples(BenchCluster c, string prefix, int samples)
    {
        var keys = Enumerable.Range(0, samples).Select(i => $"{prefix}{i:D6}.bin").ToList();
        // One shared content array: 20,000 keys cost the key strings, not 2.5 GiB of benchmark memory.
        c.Origin.PutSharedObjects(BenchCluster.Bucket, keys, Sample());
        return keys;
    }

    private static byte[] Sample()
    {
        var data = new byte[SampleSize];
        new Random(7).NextBytes(data);
        return data;
    }

    /// <summary>Seconds for all workers to read their shards of one epoch; checks every sample arrived whole.</summary>
    private static async Task<double> ReadEpochAsync(OssIterableDataset<DatasetItem?> ds, int epoch, int samples)
    {
        BenchReport.Mark($"epoch{epoch}-begin");
        var sw = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            int n = 0;
            await foreach (var item in ds.ForShard(0, 1, w, Workers).ReadEpochAsync(epoch))
            {
                if (item is null || item.Size != SampleSize)
                    throw new InvalidOperationException($"sample {item?.Key} missing or of the wrong size");
                // As a training loop does once a sample is collated: its buffer goes back to the dataset for reuse.
                item.Dispose();
                n++;
            }
            return n;
        })));
        double seconds = sw.Elapsed.TotalSeconds;
        BenchReport.Mark($"epoch{epoch}-end");
        if (counts.Sum() != samples)
            throw new InvalidOperationException($"epoch {epoch} read {counts.Sum()} samples, expected {samples}");
        return seconds;
    }

    private static async Task<double> DirectAsync(S3ObjectStore direct, List<string> keys, string etag, int count, int concurrency)
    {
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(keys.Take(count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (key, ct) =>
        {
            var buffer = GC.AllocateUninitializedArray<byte>(SampleSize);
            await direct.ReadRangeAsync(BenchCluster.Bucket, key, etag, 0, buffer, ct);
        });
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>The samples packed into one tar (in 64 MiB segments, as the simulator stores them) and its index.</summary>
    private static (List<byte[]> Segments, byte[] Index) BuildTar(int samples)
    {
        var sink = new SegmentStream(64 << 20);
        var index = new StringBuilder(TarIndex.Header + "\n");
        var data = Sample();
        using (var writer = new TarWriter(sink, TarEntryFormat.Pax, leaveOpen: true))
        {
            for (int i = 0; i < samples; i++)
            {
                string name = $"samples/{i:D6}.bin";
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data, writable: false) });
                index.Append(TarIndex.Line(new TarMember(name, sink.Position - SampleSize, SampleSize))).Append('\n');
            }
        }
        return (sink.Finish(), Encoding.UTF8.GetBytes(index.ToString()));
    }

    /// <summary>A write-only stream into fixed-size segments (an archive larger than one array can be).</summary>
    private sealed class SegmentStream : Stream
    {
        private readonly int _segmentSize;
        private readonly List<byte[]> _segments = [];
        private int _used;
        private long _length;

        public SegmentStream(int segmentSize)
        {
            _segmentSize = segmentSize;
            _used = segmentSize;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                if (_used == _segmentSize)
                {
                    _segments.Add(new byte[_segmentSize]);
                    _used = 0;
                }
                int n = Math.Min(buffer.Length, _segmentSize - _used);
                buffer[..n].CopyTo(_segments[^1].AsSpan(_used));
                _used += n;
                _length += n;
                buffer = buffer[n..];
            }
        }

        public List<byte[]> Finish()
        {
            if (_segments.Count > 0 && _used < _segmentSize)
                _segments[^1] = _segments[^1][.._used];
            return _segments;
        }

        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
