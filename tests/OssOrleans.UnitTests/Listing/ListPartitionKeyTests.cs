using System.Text;

namespace OssOrleans.UnitTests.Listing;

public sealed class ListPartitionKeyTests
{
    private static readonly string[] Pieces = ["a", "/", "|", ":", "-", "0", "12:", "é", "😀", " ", "|-|", "3:abc|", "", "~"];

    private static string RandomText(Random random, int maxPieces)
    {
        var sb = new StringBuilder();
        int n = random.Next(maxPieces + 1);
        for (int i = 0; i < n; i++)
            sb.Append(Pieces[random.Next(Pieces.Length)]);
        return sb.ToString();
    }

    [Fact]
    public void GrainKey_RandomKeys_RoundTripExactly()
    {
        var random = new Random(31);
        for (int i = 0; i < 2000; i++)
        {
            string prefix = RandomText(random, 6).TrimStart('/');
            string? delimiter = random.Next(3) == 0 ? null : RandomText(random, 2) is { Length: > 0 } d ? d : "/";
            string? startAfter = random.Next(3) == 0 ? null : prefix + RandomText(random, 4);
            string? endAt = random.Next(3) == 0 ? null : prefix + "~" + RandomText(random, 4);
            if (startAfter is not null && endAt is not null && KeyOrder.Compare(startAfter, endAt) >= 0)
                endAt = null;
            long? expected = random.Next(2) == 0 ? null : random.NextInt64(0, long.MaxValue);
            var key = new ListPartitionKey("bucket-" + random.Next(100), prefix, delimiter, random.Next(2) == 0, startAfter, endAt, expected);

            var parsed = ListPartitionKey.FromGrainKey(key.ToGrainKey());

            Assert.Equal(key, parsed);
            Assert.Equal(key.ToGrainKey(), parsed.ToGrainKey());
        }
    }

    [Fact]
    public void GrainKey_DifferentFields_GiveDifferentKeys()
    {
        var keys = new[]
        {
            new ListPartitionKey("bkt", "p/", null, fast: true),
            new ListPartitionKey("bkt", "p/", null, fast: false),
            new ListPartitionKey("bkt", "p/", "/", fast: true),
            new ListPartitionKey("bkt", "p/", null, fast: true, startAfter: "p/a"),
            new ListPartitionKey("bkt", "p/", null, fast: true, endAt: "p/a"),
            new ListPartitionKey("bkt", "p/", null, fast: true, expectedKeys: 5),
            new ListPartitionKey("bkt", "p", null, fast: true),
            new ListPartitionKey("bkt2", "p/", null, fast: true),
        };
        Assert.Equal(keys.Length, keys.Select(k => k.ToGrainKey()).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData("X|-|-|-|-|b/p")]
    [InlineData("F|-|-|-|-|")]
    [InlineData("F|-|-|-|b/p")]
    [InlineData("F|5:ab|-|-|-|bkt/p")]
    [InlineData("F|-|-|-|x|bkt/p")]
    [InlineData("F|-|-|-|2:-1|bkt/p")]
    [InlineData("F|-|1:b|1:a|-|bkt/p")]
    [InlineData("F|-|-|-|-|B!/p")]
    public void FromGrainKey_Malformed_ThrowsFormatException(string grainKey) =>
        Assert.Throws<FormatException>(() => ListPartitionKey.FromGrainKey(grainKey));

    [Fact]
    public void InRange_AfterStartUpToAndIncludingEnd()
    {
        var key = new ListPartitionKey("bkt", "p/", null, true, startAfter: "p/b", endAt: "p/d");
        Assert.False(key.InRange("p/b"));
        Assert.True(key.InRange("p/b0"));
        Assert.True(key.InRange("p/d"));
        Assert.False(key.InRange("p/d0"));
        Assert.True(key.IsPastEnd("p/e"));
    }

    [Fact]
    public void Constructor_EmptyRange_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new ListPartitionKey("bkt", "p/", null, true, startAfter: "p/b", endAt: "p/b"));
        Assert.Throws<ArgumentException>(() => new ListPartitionKey("bkt", "p/", "", true));
    }
}

public sealed class KeyOrderTests
{
    [Fact]
    public void Compare_RandomStrings_AgreesWithUtf8ByteOrder()
    {
        var random = new Random(7);
        string[] pieces = ["a", "z", "\u007f", "é", "\uD7FF", "\uE000", "\uFFFD", "😀", "𝄞", "/", ""];
        for (int i = 0; i < 5000; i++)
        {
            string x = string.Concat(Enumerable.Range(0, random.Next(4)).Select(_ => pieces[random.Next(pieces.Length)]));
            string y = string.Concat(Enumerable.Range(0, random.Next(4)).Select(_ => pieces[random.Next(pieces.Length)]));
            int expected = Math.Sign(Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y)));
            Assert.Equal(expected, Math.Sign(KeyOrder.Compare(x, y)));
        }
    }
}
