using OssOrleans.Client;
using OssOrleans.TestKit;

namespace OssOrleans.ClusterTests.Checkpoints;

/// <summary>PrepareDirectoryAsync over the shared 3-silo checkpoint cluster.</summary>
[Collection(CheckpointCollection.Name)]
public sealed class PrepareDirectoryTests(CheckpointFixture fixture) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ossorleans-prep-" + Guid.NewGuid().ToString("N"));

    private TestCacheCluster C => fixture.Cluster;

    [Fact]
    public async Task PrepareDirectory_MaterializesEveryFile_WithProgressAndSizes()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["config.json"] = "{\"hidden\": 64}"u8.ToArray(),
            ["weights/part-1.bin"] = C.PutRandom("prep/model/weights/part-1.bin", (5 << 20) + 333, seed: 1),
            ["weights/part-2.bin"] = C.PutRandom("prep/model/weights/part-2.bin", 3 << 20, seed: 2),
            ["empty.txt"] = [],
        };
        C.Origin.PutObject(TestCacheCluster.Bucket, "prep/model/config.json", files["config.json"]);
        C.Origin.PutObject(TestCacheCluster.Bucket, "prep/model/empty.txt", Array.Empty<byte>());
        C.PutRandom("prep/model.txt", 100, seed: 3); // beside the directory, not in it
        var reports = new List<TransferProgress>();

        var result = await C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri("prep/model"), _dir, progress: new SyncProgress(reports));

        Assert.Equal(4, result.Files);
        Assert.Equal(4, result.FilesWritten);
        Assert.Equal(files.Values.Sum(f => (long)f.Length), result.Bytes);
        foreach (var (name, bytes) in files)
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(_dir, name)));
        Assert.False(File.Exists(Path.Combine(_dir, "model.txt")));
        Assert.Empty(Directory.GetFiles(_dir, "*.part", SearchOption.AllDirectories));
        var last = reports[^1];
        Assert.Equal(new TransferProgress(4, 4, result.Bytes, result.Bytes, last.BytesPerSecond), last);
        Assert.True(reports.Count >= 2, $"expected progress reports; got {reports.Count}");
    }

    [Fact]
    public async Task PrepareDirectory_SecondRun_SkipsUnchangedAndRewritesStale()
    {
        var a = C.PutRandom("prep2/m/a.bin", 2 << 20, seed: 11);
        C.PutRandom("prep2/m/b.bin", 2 << 20, seed: 12);
        var c = C.PutRandom("prep2/m/c.bin", 1 << 20, seed: 13);
        await C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri("prep2/m/"), _dir);

        // Unchanged: nothing is fetched again.
        C.Origin.ResetCounters();
        var again = await C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri("prep2/m/"), _dir);
        Assert.Equal((3, 0), (again.FilesSkipped, again.FilesWritten));
        Assert.Equal(0, C.Origin.Counters.Gets);

        // A new version at the origin, and a local file damaged (truncated): both are written again.
        var b2 = C.PutRandom("prep2/m/b.bin", (2 << 20) + 1, seed: 14);
        C.Clock.Advance(TimeSpan.FromSeconds(11));
        await using (var f = File.OpenWrite(Path.Combine(_dir, "c.bin")))
            f.SetLength(10);
        var third = await C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri("prep2/m/"), _dir);

        Assert.Equal((1, 2), (third.FilesSkipped, third.FilesWritten));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(_dir, "a.bin")));
        Assert.Equal(b2, await File.ReadAllBytesAsync(Path.Combine(_dir, "b.bin")));
        Assert.Equal(c, await File.ReadAllBytesAsync(Path.Combine(_dir, "c.bin")));
    }

    [Theory]
    [InlineData("evil/../../escape.bin")]
    [InlineData("evil/a/")]
    [InlineData("evil/x\0y")]
    [InlineData("evil//abs")]
    public async Task PrepareDirectory_UnsafeKey_RefusedBeforeAnythingIsWritten(string badKey)
    {
        string prefix = "evil-" + Guid.NewGuid().ToString("N")[..8];
        C.PutRandom(prefix + "/ok.bin", 1000, seed: 21);
        C.Origin.PutObject(TestCacheCluster.Bucket, prefix + badKey["evil".Length..], [1, 2, 3]);

        var ex = await Assert.ThrowsAsync<UnsafeObjectKeyException>(() =>
            C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri(prefix), _dir, new PrepareOptions { FastList = false }));

        Assert.Single(ex.Problems);
        Assert.False(Directory.Exists(_dir) && Directory.EnumerateFileSystemEntries(_dir).Any(), "something was written");
    }

    [Fact]
    public async Task PrepareDirectory_FileAndDirectoryOfTheSameName_Refused()
    {
        C.PutRandom("clash/m/a", 10, seed: 31);
        C.PutRandom("clash/m/a/b", 10, seed: 32);

        var ex = await Assert.ThrowsAsync<UnsafeObjectKeyException>(() => C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri("clash/m"), _dir));

        Assert.Contains("same name", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir) && Directory.EnumerateFileSystemEntries(_dir).Any());
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Records reports as they are made (Progress&lt;T&gt; would post them later, to the thread pool).</summary>
    internal sealed class SyncProgress(List<TransferProgress> reports) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (reports)
                reports.Add(value);
        }
    }
}
