namespace OssOrleans.UnitTests.Listing;

public sealed class ListEntryCodecTests
{
    [Fact]
    public void WriterAndReader_RandomSortedEntries_RoundTripExactly()
    {
        var random = new Random(3);
        string[] pieces = ["dir/", "a", "b", "é", "😀", "0", "12", " ", "//", "x-y"];
        for (int round = 0; round < 50; round++)
        {
            var keys = Enumerable.Range(0, random.Next(1, 1500))
                .Select(_ => string.Concat(Enumerable.Range(0, random.Next(1, 8)).Select(_ => pieces[random.Next(pieces.Length)])))
                .Distinct(StringComparer.Ordinal).OrderBy(k => k, KeyOrder.Comparer).ToList();
            string[] etags = ["\"e1\"", "\"e2-3\"", ""];
            var entries = keys.Select(k => random.Next(10) == 0
                ? ObjectEntry.Prefix(k)
                : new ObjectEntry(k, random.Next(3) == 0 ? 0 : random.NextInt64(0, 1L << 40), etags[random.Next(etags.Length)],
                    new DateTimeOffset(2020 + random.Next(2), 1, 1 + random.Next(2), 0, 0, 0, TimeSpan.Zero))).ToList();

            var writer = new ListEntryWriter();
            foreach (var e in entries)
                writer.Add(e.Key, e.Size, e.ETag, e.LastModified, e.IsPrefix);
            var chunk = writer.ToChunk();

            Assert.Equal(entries.Count, chunk.Count);
            Assert.Equal(entries[^1].Key, chunk.LastKey);
            Assert.Equal(entries, chunk.ReadEntries());
        }
    }

    [Fact]
    public void Writer_SharedPrefixesAndRepeatedETags_PackToAFewBytesPerEntry()
    {
        var writer = new ListEntryWriter();
        var time = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int i = 0; i < 1000; i++)
            writer.Add($"datasets/imagenet/train/n01440764/img{i:D8}.JPEG", 110_000 + i, "\"0123456789abcdef0123456789abcdef\"", time);
        var chunk = writer.ToChunk();
        Assert.True(chunk.PackedEntries.Length < 20 * 1000, $"1000 entries packed into {chunk.PackedEntries.Length} bytes");
    }

    [Fact]
    public void Reader_TruncatedData_ThrowsFormatException()
    {
        var writer = new ListEntryWriter();
        writer.Add("a/b", 1, "\"e\"", DateTimeOffset.UnixEpoch);
        writer.Add("a/c", 2, "\"f\"", DateTimeOffset.UnixEpoch);
        var chunk = writer.ToChunk();
        Assert.Throws<FormatException>(() => new ListChunk(chunk.PackedEntries[..^3], chunk.Count, []).ReadEntries());
    }
}
