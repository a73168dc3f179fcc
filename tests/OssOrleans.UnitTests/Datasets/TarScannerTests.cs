using System.Formats.Tar;
using System.Text;
using OssOrleans.Client.Datasets.Tar;

namespace OssOrleans.UnitTests.Datasets;

public sealed class TarScannerTests
{
    [Theory]
    [InlineData(TarEntryFormat.Ustar)]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.V7)]
    public async Task ScanAsync_ArchiveFromSystemFormatsTar_YieldsEveryMemberAtItsDataOffset(TarEntryFormat format)
    {
        var files = SampleFiles(format is TarEntryFormat.V7 or TarEntryFormat.Ustar ? 100 : 180);
        var tar = BuildTar(format, files);

        var members = await ScanAsync(tar);

        Assert.Equal(files.Select(f => f.Name), members.Select(m => m.Name));
        foreach (var (m, f) in members.Zip(files))
            Assert.Equal(f.Data, tar.AsSpan((int)m.DataOffset, (int)m.Size).ToArray());
    }

    [Fact]
    public async Task ScanAsync_NonRegularEntries_AreSkippedWithReason()
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "dir/"));
            w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "dir/link") { LinkName = "../../etc/passwd" });
            w.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "dir/hard") { LinkName = "dir/a.bin" });
            w.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, "dir/fifo"));
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "dir/a.bin") { DataStream = new MemoryStream([1, 2, 3]) });
        }
        var skipped = new List<TarSkippedEntry>();

        var members = await ScanAsync(ms.ToArray(), skipped);

        Assert.Equal(["dir/a.bin"], members.Select(m => m.Name));
        Assert.Equal(["directory", "symbolic link", "hard link", "FIFO"], skipped.Select(s => s.Reason));
    }

    [Theory]
    [InlineData("../evil.bin", "'..' in path")]
    [InlineData("a/../../evil.bin", "'..' in path")]
    [InlineData("/etc/passwd", "absolute path")]
    [InlineData("C:/windows/x.bin", "absolute path (drive letter)")]
    [InlineData("a\\..\\b", "backslash in name")]
    [InlineData("a\tb", "control character in name")]
    public async Task ScanAsync_HostileMemberName_IsSkippedWithReason(string name, string reason)
    {
        var tar = Concat(RawHeader(name, 3, '0'), Block([7, 7, 7]), RawHeader("ok.bin", 1, '0'), Block([9]), new byte[1024]);
        var skipped = new List<TarSkippedEntry>();

        var members = await ScanAsync(tar, skipped);

        Assert.Equal(["ok.bin"], members.Select(m => m.Name));
        var s = Assert.Single(skipped);
        Assert.Equal(name, s.Name);
        Assert.Equal(reason, s.Reason);
    }

    [Fact]
    public async Task ScanAsync_LeadingDotSlash_IsDropped()
    {
        var tar = Concat(RawHeader("./a/b.bin", 1, '0'), Block([1]));
        var m = Assert.Single(await ScanAsync(tar));
        Assert.Equal("a/b.bin", m.Name);
    }

    [Fact]
    public async Task ScanAsync_PaxPathOverride_WithDotDot_IsSkipped()
    {
        // The header's own name is harmless; the pax record that overrides it is not.
        byte[] record = Encoding.UTF8.GetBytes(PaxRecord("path", "../../outside.bin"));
        var tar = Concat(RawHeader("PaxHeaders/x", record.Length, 'x'), Block(record), RawHeader("harmless.bin", 2, '0'), Block([1, 2]));
        var skipped = new List<TarSkippedEntry>();

        Assert.Empty(await ScanAsync(tar, skipped));
        Assert.Equal("../../outside.bin", Assert.Single(skipped).Name);
    }

    [Fact]
    public async Task ScanAsync_GnuLongName_AppliesToNextEntry()
    {
        string longName = string.Concat(Enumerable.Repeat("segment/", 30)) + "file.bin";
        byte[] nameBytes = Encoding.UTF8.GetBytes(longName + "\0");
        var tar = Concat(RawHeader("././@LongLink", nameBytes.Length, 'L', gnu: true), Block(nameBytes), RawHeader(longName[..99], 4, '0', gnu: true), Block([1, 2, 3, 4]));

        var m = Assert.Single(await ScanAsync(tar));

        Assert.Equal(longName, m.Name);
        Assert.Equal(4, m.Size);
    }

    [Fact]
    public async Task ScanAsync_UstarPrefixField_IsJoinedToName()
    {
        var header = RawHeader("name.bin", 2, '0');
        Encoding.ASCII.GetBytes("some/long/prefix").CopyTo(header, 345);
        FixChecksum(header);
        var m = Assert.Single(await ScanAsync(Concat(header, Block([1, 2]))));
        Assert.Equal("some/long/prefix/name.bin", m.Name);
    }

    [Fact]
    public async Task ScanAsync_Base256Size_IsRead()
    {
        var header = RawHeader("big.bin", 0, '0');
        header[124] = 0x80;
        Array.Clear(header, 125, 11);
        header[135] = 5;
        FixChecksum(header);
        var m = Assert.Single(await ScanAsync(Concat(header, Block([1, 2, 3, 4, 5]))));
        Assert.Equal(5, m.Size);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, "negative")]
    [InlineData(new byte[] { 0x80, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, "out of range")]
    [InlineData(new byte[] { 0x80, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0 }, "out of range")]
    [InlineData(new byte[] { (byte)'1', (byte)'2', (byte)'9', 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "not octal")]
    [InlineData(new byte[] { (byte)'7', (byte)'7', (byte)'7', (byte)'7', (byte)'7', (byte)'7', (byte)'7', (byte)'7', (byte)'7', (byte)'7', (byte)'7', 0 }, "truncated")]
    public async Task ScanAsync_SizeFieldOutOfRange_ThrowsTarFormatException(byte[] sizeField, string expected)
    {
        var header = RawHeader("x.bin", 0, '0');
        sizeField.CopyTo(header, 124);
        FixChecksum(header);
        var ex = await Assert.ThrowsAsync<TarFormatException>(() => ScanAsync(Concat(header, Block([1]))));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_BadChecksum_ThrowsNamingTheOffset()
    {
        var tar = BuildTar(TarEntryFormat.Ustar, SampleFiles(3));
        int second = 512 + (int)TarScannerPadded(SampleFiles(3)[0].Data.Length);
        tar[second + 10] ^= 0x01;
        var ex = await Assert.ThrowsAsync<TarFormatException>(() => ScanAsync(tar));
        Assert.Contains($"offset {second}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_NotATar_SaysSo()
    {
        var ex = await Assert.ThrowsAsync<TarFormatException>(() => ScanAsync(Encoding.UTF8.GetBytes(new string('x', 2000))));
        Assert.Contains("not a tar archive", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ScanAsync_TruncatedAtEveryPoint_ThrowsTarFormatExceptionOrYieldsOnlyWholeMembers(bool seekable)
    {
        var files = SampleFiles(6);
        var tar = BuildTar(TarEntryFormat.Pax, files);
        int dataEnd = tar.Length - 1024; // Without the end-of-archive blocks.
        for (int cut = 1; cut < dataEnd; cut += 97)
        {
            var part = tar[..cut];
            try
            {
                var members = await ScanAsync(part, seekable: seekable);
                foreach (var m in members)
                    Assert.True(m.DataOffset + m.Size <= cut, $"cut {cut}: member {m.Name} runs past the end");
                Assert.Equal(files.Take(members.Count).Select(f => f.Name), members.Select(m => m.Name));
            }
            catch (TarFormatException ex)
            {
                Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task ScanAsync_RandomCorruption_NeverThrowsAnythingButTarFormatException()
    {
        var files = SampleFiles(12);
        var original = BuildTar(TarEntryFormat.Pax, files);
        var rng = new Random(20261126);
        for (int round = 0; round < 400; round++)
        {
            var tar = (byte[])original.Clone();
            int flips = rng.Next(1, 6);
            for (int f = 0; f < flips; f++)
            {
                // Mostly header bytes, where the parser's decisions are.
                int block = rng.Next(tar.Length / 512);
                int at = block * 512 + (rng.Next(4) == 0 ? rng.Next(512) : rng.Next(160));
                tar[at] = (byte)rng.Next(256);
            }
            try
            {
                foreach (var m in await ScanAsync(tar))
                {
                    Assert.InRange(m.DataOffset, 0, tar.Length);
                    Assert.True(m.DataOffset + m.Size <= tar.Length);
                    Assert.Null(TarScanner.CheckName(m.Name));
                }
            }
            catch (TarFormatException)
            {
            }
        }
    }

    [Fact]
    public async Task TarTools_CreateFromFolder_IndexMatchesScanAndData()
    {
        var root = Directory.CreateTempSubdirectory("ossorleans-tar-");
        try
        {
            var src = Directory.CreateDirectory(Path.Combine(root.FullName, "src"));
            var files = SampleFiles(8);
            foreach (var f in files)
            {
                var path = Path.Combine(src.FullName, f.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllBytesAsync(path, f.Data);
            }
            string tarPath = Path.Combine(root.FullName, "out.tar");

            var result = await TarTools.CreateFromFolderAsync(src.FullName, tarPath);

            Assert.Equal(files.Count, result.Members);
            var tar = await File.ReadAllBytesAsync(tarPath);
            var fromIndex = new List<TarMember>();
            await using (var idx = File.OpenRead(TarTools.DefaultIndexPath(tarPath)))
            {
                await foreach (var m in TarIndex.ReadAsync(idx, tar.Length))
                    fromIndex.Add(m);
            }
            Assert.Equal(await ScanAsync(tar), fromIndex);
            var expected = files.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
            Assert.Equal(expected.Select(f => f.Name), fromIndex.Select(m => m.Name));
            foreach (var (m, f) in fromIndex.Zip(expected))
                Assert.Equal(f.Data, tar.AsSpan((int)m.DataOffset, (int)m.Size).ToArray());

            string indexAgain = Path.Combine(root.FullName, "again.index");
            var indexed = await TarTools.CreateIndexAsync(tarPath, indexAgain);
            Assert.Equal(files.Count, indexed.Members);
            Assert.Equal(await File.ReadAllTextAsync(TarTools.DefaultIndexPath(tarPath)), await File.ReadAllTextAsync(indexAgain));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    internal static List<(string Name, byte[] Data)> SampleFiles(int longNameLength)
    {
        var rng = new Random(5);
        var list = new List<(string, byte[])>();
        foreach (var (name, size) in new[] { ("a.bin", 0), ("b/c.bin", 511), ("b/d.bin", 512), ("e.bin", 513), (LongName(longNameLength), 1000), ("g.bin", 70_000) })
        {
            var data = new byte[size];
            rng.NextBytes(data);
            list.Add((name, data));
        }
        return list;
    }

    // Segments of 9 characters, so a ustar writer can split the name into prefix and name fields.
    private static string LongName(int length)
    {
        var sb = new StringBuilder("f/");
        while (sb.Length + 10 < length)
            sb.Append("segment" + (sb.Length % 10) + "/");
        return sb.Append(new string('n', Math.Max(1, length - sb.Length))).ToString();
    }

    internal static List<(string Name, byte[] Data)> SampleFiles(int count, int size)
    {
        var rng = new Random(count);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var d = new byte[size + i];
            rng.NextBytes(d);
            return ($"s/{i:D4}.bin", d);
        })];
    }

    private static byte[] BuildTar(TarEntryFormat format, List<(string Name, byte[] Data)> files)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, format, leaveOpen: true))
        {
            foreach (var (name, data) in files)
            {
                TarEntry e = format switch
                {
                    TarEntryFormat.Ustar => new UstarTarEntry(TarEntryType.RegularFile, name),
                    TarEntryFormat.Pax => new PaxTarEntry(TarEntryType.RegularFile, name),
                    TarEntryFormat.Gnu => new GnuTarEntry(TarEntryType.RegularFile, name),
                    _ => new V7TarEntry(TarEntryType.V7RegularFile, name),
                };
                e.DataStream = new MemoryStream(data);
                w.WriteEntry(e);
            }
        }
        return ms.ToArray();
    }

    private static async Task<List<TarMember>> ScanAsync(byte[] tar, List<TarSkippedEntry>? skipped = null, bool seekable = true)
    {
        Stream s = seekable ? new MemoryStream(tar) : new ForwardOnlyStream(tar);
        var list = new List<TarMember>();
        await foreach (var m in TarScanner.ScanAsync(s, skipped is null ? null : skipped.Add))
            list.Add(m);
        return list;
    }

    private static long TarScannerPadded(long size) => (size + 511) / 512 * 512;

    private static string PaxRecord(string key, string value)
    {
        string body = $" {key}={value}\n";
        int len = body.Length + 1;
        while ((len.ToString(System.Globalization.CultureInfo.InvariantCulture) + body).Length != len)
            len++;
        return len.ToString(System.Globalization.CultureInfo.InvariantCulture) + body;
    }

    internal static byte[] RawHeader(string name, long size, char type, bool gnu = false)
    {
        var h = new byte[512];
        Encoding.UTF8.GetBytes(name).AsSpan(0, Math.Min(100, Encoding.UTF8.GetByteCount(name))).CopyTo(h);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(h, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(h, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(h, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(h, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(h, 136);
        h[156] = (byte)type;
        (gnu ? "ustar  \0"u8 : "ustar\u000000"u8).CopyTo(h.AsSpan(257));
        FixChecksum(h);
        return h;
    }

    internal static void FixChecksum(byte[] h)
    {
        for (int i = 148; i < 156; i++)
            h[i] = (byte)' ';
        int sum = h.Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(h, 148);
    }

    internal static byte[] Block(byte[] data)
    {
        var b = new byte[TarScannerPadded(data.Length)];
        data.CopyTo(b, 0);
        return b;
    }

    internal static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _pos;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            // Short reads on purpose: a parser must not assume a read fills its buffer.
            int n = Math.Min(Math.Min(count, 300), data.Length - _pos);
            Array.Copy(data, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
