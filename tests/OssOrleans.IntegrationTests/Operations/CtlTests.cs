using System.Text;
using System.Text.Json;
using OssOrleans.Ctl;

namespace OssOrleans.IntegrationTests.Operations;

/// <summary>ossctl run in-process against a real silo process (the seeded sample bucket): output and exit codes.</summary>
[Collection(OpsSiloCollection.Name)]
public sealed class CtlTests(OpsSiloFixture fixture)
{
    private sealed record Run(int Code, byte[] Stdout, string Stderr)
    {
        public string Text => Encoding.UTF8.GetString(Stdout);
    }

    private async Task<Run> CtlAsync(params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        string[] all = ["--cluster", fixture.Silo.Gateway, "--cluster-id", "ops-tests", .. args];
        int code = await CtlApp.RunAsync(all, stdout, stderr, _ => null);
        return new Run(code, stdout.ToArray(), stderr.ToString());
    }

    private string SamplePath(params string[] parts) => Path.Combine([fixture.DataDirectory, "sample", .. parts]);

    [Fact]
    public async Task Ls_OneLevel_ShowsObjectsAndPrefixes_RecursiveFastJsonListsEveryKey()
    {
        var top = await CtlAsync("ls", "oss://sample/");
        Assert.Equal(0, top.Code);
        var lines = top.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.EndsWith(" oss://sample/README.txt", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("PRE", StringComparison.Ordinal) && l.EndsWith(" oss://sample/datasets/", StringComparison.Ordinal));
        Assert.Equal(3, lines.Length);

        var all = await CtlAsync("--json", "ls", "--fast", "--recursive", "oss://sample/datasets/tiny/");
        Assert.Equal(0, all.Code);
        var entries = all.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(65, entries.Count); // 64 samples and the manifest
        var first = entries.Single(e => e.GetProperty("key").GetString() == "datasets/tiny/train/000000.bin");
        Assert.Equal(16 * 1024, first.GetProperty("size").GetInt64());
        Assert.Equal("oss://sample/datasets/tiny/train/000000.bin", first.GetProperty("uri").GetString());
    }

    [Fact]
    public async Task Stat_Json_GivesSizeAndShards_MissingObjectIsExit3()
    {
        var run = await CtlAsync("--json", "stat", "oss://sample/models/tiny/weights.bin");
        Assert.Equal(0, run.Code);
        var json = JsonDocument.Parse(run.Text).RootElement;
        Assert.Equal(4 << 20, json.GetProperty("size").GetInt64());
        Assert.Equal(1, json.GetProperty("shardCount").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("etag").GetString()));

        var missing = await CtlAsync("stat", "oss://sample/no/such/object");
        Assert.Equal(3, missing.Code);
        Assert.StartsWith("ossctl: not found:", missing.Stderr, StringComparison.Ordinal);
        Assert.Single(missing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Cat_WritesExactBytes()
    {
        var run = await CtlAsync("cat", "oss://sample/datasets/tiny/train/000007.bin");
        Assert.Equal(0, run.Code);
        Assert.Equal(await File.ReadAllBytesAsync(SamplePath("datasets", "tiny", "train", "000007.bin")), run.Stdout);
    }

    [Fact]
    public async Task Get_WritesFileWithProgressOnStderr_IntoADirectoryByKeyName()
    {
        var dir = Directory.CreateTempSubdirectory("ossctl-get-");
        try
        {
            var run = await CtlAsync("get", "oss://sample/models/tiny/weights.bin", dir.FullName);
            Assert.Equal(0, run.Code);
            Assert.Equal(await File.ReadAllBytesAsync(SamplePath("models", "tiny", "weights.bin")), await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "weights.bin")));
            Assert.Contains("100.0%", run.Stderr, StringComparison.Ordinal);
            Assert.Contains('#', run.Stderr);
            Assert.Single(dir.GetFiles()); // no partial file left behind
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Stats_TextAndJson()
    {
        var text = await CtlAsync("stats");
        Assert.Equal(0, text.Code);
        Assert.Contains("1 active silo(s)", text.Text, StringComparison.Ordinal);
        var json = await CtlAsync("stats", "--json");
        Assert.Equal(0, json.Code);
        var root = JsonDocument.Parse(json.Text).RootElement;
        Assert.Equal(1, root.GetProperty("activeSilos").GetInt32());
        Assert.Equal(1, root.GetProperty("silos").GetArrayLength());
    }

    [Fact]
    public async Task Put_ThenGet_RoundTrips_CreateOnlyOnExistingIsExit1()
    {
        string dir = Directory.CreateTempSubdirectory("ossctl-put-").FullName;
        try
        {
            var data = new byte[(3 << 20) + 77];
            new Random(7).NextBytes(data);
            string local = Path.Combine(dir, "ckpt.bin");
            await File.WriteAllBytesAsync(local, data);
            // A bucket of its own: the other tests count what the sample bucket holds.
            Directory.CreateDirectory(Path.Combine(fixture.DataDirectory, "ctl-scratch"));
            string key = $"put/{Guid.NewGuid():N}.bin";
            string uri = $"oss://ctl-scratch/{key}";

            var put = await CtlAsync("--json", "put", local, uri);
            Assert.True(put.Code == 0, put.Stderr);
            var json = JsonDocument.Parse(put.Text).RootElement;
            Assert.Equal(data.Length, json.GetProperty("size").GetInt64());
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine([fixture.DataDirectory, "ctl-scratch", .. key.Split('/')])));

            string back = Path.Combine(dir, "back.bin");
            var get = await CtlAsync("get", "--quiet", uri, back);
            Assert.True(get.Code == 0, get.Stderr);
            Assert.Equal(data, await File.ReadAllBytesAsync(back));

            var again = await CtlAsync("put", "--create-only", "--quiet", local, uri);
            Assert.Equal(1, again.Code);
            Assert.Single(again.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task PrepareDir_MaterializesTheModel_WarmCompletes()
    {
        string dir = Path.Combine(Directory.CreateTempSubdirectory("ossctl-prep-").FullName, "model");
        try
        {
            var prep = await CtlAsync("--json", "prepare-dir", "oss://sample/models/tiny/", dir);
            Assert.True(prep.Code == 0, prep.Stderr);
            Assert.Equal(2, JsonDocument.Parse(prep.Text).RootElement.GetProperty("files").GetInt32());
            Assert.Equal(await File.ReadAllBytesAsync(SamplePath("models", "tiny", "weights.bin")), await File.ReadAllBytesAsync(Path.Combine(dir, "weights.bin")));
            Assert.Equal(await File.ReadAllBytesAsync(SamplePath("models", "tiny", "config.json")), await File.ReadAllBytesAsync(Path.Combine(dir, "config.json")));

            var warm = await CtlAsync("--json", "warm", "oss://sample/models/");
            Assert.True(warm.Code == 0, warm.Stderr);
            var job = JsonDocument.Parse(warm.Text).RootElement;
            Assert.Equal((int)WarmJobState.Completed, job.GetProperty("state").GetInt32());
            Assert.Equal(2, job.GetProperty("objectsDone").GetInt64());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Fact]
    public async Task TarCreate_FromPrefixIntoTheStore_ThenTarIndex_GivesTheSameIndex()
    {
        Directory.CreateDirectory(Path.Combine(fixture.DataDirectory, "ctl-scratch"));
        string name = Guid.NewGuid().ToString("N");
        var create = await CtlAsync("--json", "tar", "create", "oss://sample/datasets/tiny/train/", $"oss://ctl-scratch/{name}.tar");
        Assert.True(create.Code == 0, create.Stderr);
        Assert.Equal(64, JsonDocument.Parse(create.Text).RootElement.GetProperty("members").GetInt64());

        // The archive in the store is a tar any reader accepts, holding the prefix's objects under relative names.
        string stored = Path.Combine(fixture.DataDirectory, "ctl-scratch", name + ".tar");
        await using (var file = File.OpenRead(stored))
        {
            using var reader = new System.Formats.Tar.TarReader(file);
            var first = reader.GetNextEntry()!;
            Assert.Equal("000000.bin", first.Name);
            using var ms = new MemoryStream();
            first.DataStream!.CopyTo(ms);
            Assert.Equal(await File.ReadAllBytesAsync(SamplePath("datasets", "tiny", "train", "000000.bin")), ms.ToArray());
        }

        var index = await CtlAsync("tar", "index", "--quiet", $"oss://ctl-scratch/{name}.tar", $"oss://ctl-scratch/{name}.again.index");
        Assert.True(index.Code == 0, index.Stderr);
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(fixture.DataDirectory, "ctl-scratch", name + ".tar.index")),
            await File.ReadAllBytesAsync(Path.Combine(fixture.DataDirectory, "ctl-scratch", name + ".again.index")));
    }

    [Fact]
    public async Task TarIndex_NotATar_IsExit1WithOneLine()
    {
        string dir = Directory.CreateTempSubdirectory("ossctl-tar-").FullName;
        try
        {
            string bogus = Path.Combine(dir, "bogus.tar");
            await File.WriteAllBytesAsync(bogus, new byte[1000]);
            await File.WriteAllTextAsync(bogus, "this is not a tar archive, only some text that is long enough to fill a header? no.");
            var run = await CtlAsync("tar", "index", "--quiet", bogus);
            Assert.Equal(1, run.Code);
            Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.False(File.Exists(bogus + ".index"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    [InlineData(new[] { "stat" }, "usage: ossctl stat")]
    [InlineData(new[] { "stat", "http://x/y" }, "unknown URI scheme")]
    [InlineData(new[] { "ls", "--bogus", "oss://sample/" }, "does not take --bogus")]
    [InlineData(new[] { "put", "oss://sample/a" }, "usage: ossctl put")]
    [InlineData(new[] { "tar", "index" }, "usage: ossctl tar index")]
    [InlineData(new[] { "tar" }, "tar needs a subcommand")]
    public async Task BadCommandLines_AreExit2WithOneLine(string[] args, string message)
    {
        var run = await CtlAsync(args);
        Assert.Equal(2, run.Code);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Help_ListsEveryCommand_Exit0()
    {
        var run = await CtlAsync("--help");
        Assert.Equal(0, run.Code);
        foreach (var c in CtlApp.Commands)
            Assert.Contains(c.Usage, run.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableCluster_IsExit1WithOneLine()
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int port = OssOrleans.TestKit.FreePort.GetLoopbackPort();
        int code = await CtlApp.RunAsync(["--connect-timeout", "2", "stats"], stdout, stderr, v => v == CtlApp.ClusterVariable ? $"127.0.0.1:{port}" : null);
        Assert.Equal(1, code);
        Assert.StartsWith("ossctl: could not connect", stderr.ToString(), StringComparison.Ordinal);
    }
}
