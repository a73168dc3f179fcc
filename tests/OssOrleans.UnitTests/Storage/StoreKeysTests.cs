using System.Text;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Storage;

public class StoreKeysTests
{
    [Fact]
    public void Utf8OrdinalComparer_RandomStrings_AgreesWithUtf8ByteOrder()
    {
        var random = new Random(2024);
        // Code points from every UTF-8 length class, the surrogate-pair range and the BMP above the surrogates.
        int[] pool = ['a', 'z', '/', 0x7F, 0xE9, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF];
        for (int i = 0; i < 5000; i++)
        {
            string x = RandomString(random, pool);
            string y = RandomString(random, pool);
            int expected = Math.Sign(Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y)));
            Assert.True(expected == Math.Sign(Utf8OrdinalComparer.Instance.Compare(x, y)), $"order of '{x}' and '{y}'");
        }
    }

    [Fact]
    public void Utf8OrdinalComparer_SupplementaryVersusHighBmp_DiffersFromCompareOrdinal()
    {
        string emoji = "😀"; // U+1F600, UTF-16 D83D DE00
        string replacement = "\uFFFD";

        Assert.True(string.CompareOrdinal(emoji, replacement) < 0);
        Assert.True(Utf8OrdinalComparer.Instance.Compare(emoji, replacement) > 0);
    }

    [Theory]
    [InlineData("a/b/c.txt")]
    [InlineData("..a")]
    [InlineData("a..")]
    [InlineData(".a/b")]
    [InlineData("a b/ü/😀")]
    public void ValidatePathKey_SafeKeys_Accepted(string key)
    {
        StoreKeys.ValidatePathKey(key);
    }

    [Fact]
    public void ValidateKey_UnpairedSurrogate_Refused()
    {
        // Built in code: attribute arguments are stored as UTF-8, which would turn a lone surrogate into U+FFFD.
        foreach (string key in new[] { "\uD800", "a\uDC00b", "a\uD83D", "\uDE00\uD83D" })
        {
            Assert.Throws<ArgumentException>(() => StoreKeys.ValidateKey(key));
        }
        StoreKeys.ValidateKey("\uD83D\uDE00");
    }

    [Fact]
    public void ValidateKey_Over1024Utf8Bytes_Refused()
    {
        StoreKeys.ValidateKey(new string('a', 1024));
        Assert.Throws<ArgumentException>(() => StoreKeys.ValidateKey(new string('é', 513)));
    }

    [Theory]
    [InlineData("\"abc\"", "abc", true)]
    [InlineData("W/\"abc\"", "\"abc\"", true)]
    [InlineData("\"abc\"", "\"abd\"", false)]
    public void ETagEquals_IgnoresQuotesAndWeakPrefix(string a, string b, bool equal)
    {
        Assert.Equal(equal, StoreKeys.ETagEquals(a, b));
    }

    private static string RandomString(Random random, int[] pool)
    {
        var builder = new StringBuilder();
        int length = random.Next(0, 5);
        for (int i = 0; i < length; i++)
        {
            builder.Append(char.ConvertFromUtf32(pool[random.Next(pool.Length)]));
        }
        return builder.ToString();
    }
}
