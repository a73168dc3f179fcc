using System.Text;

namespace OssOrleans.UnitTests.Keys;

public sealed class ObjectUriTests
{
    [Theory]
    [InlineData("oss://my-bucket/a/b.bin", "my-bucket", "a/b.bin")]
    [InlineData("s3://my.bucket/key", "my.bucket", "key")]
    [InlineData("OSS://abc/", "abc", "")]
    [InlineData("oss://abc", "abc", "")]
    [InlineData("oss://abc/with space/ünï//x", "abc", "with space/ünï//x")]
    public void Parse_ValidUri_SplitsBucketAndKey(string text, string bucket, string key)
    {
        var uri = ObjectUri.Parse(text);
        Assert.Equal(bucket, uri.Bucket);
        Assert.Equal(key, uri.Key);
    }

    [Theory]
    [InlineData("my-bucket/key", "not an object URI")]
    [InlineData("http://bucket/key", "unknown URI scheme")]
    [InlineData("oss:///key", "empty bucket")]
    [InlineData("oss://ab/key", "3 to 63")]
    [InlineData("oss://Upper/key", "lowercase")]
    [InlineData("oss://-bucket/key", "start and end")]
    [InlineData("oss://bucket//key", "must not start with '/'")]
    [InlineData("oss://bucket/a\0b", "NUL")]
    public void Parse_InvalidUri_ThrowsArgumentExceptionSayingWhy(string text, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => ObjectUri.Parse(text));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KeyOver1023Utf8Bytes_IsRejected_AndExactly1023IsAccepted()
    {
        // 'é' is two bytes in UTF-8: the limit is on bytes, not characters.
        string ok = new string('a', 1021) + "é";
        Assert.Equal(1023, Encoding.UTF8.GetByteCount(ok));
        Assert.Equal(ok, ObjectUri.Parse("oss://bucket/" + ok).Key);

        var ex = Assert.Throws<ArgumentException>(() => ObjectUri.Parse("oss://bucket/" + ok + "a"));
        Assert.Contains("1024 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequireObject_PrefixOrBucket_Throws()
    {
        Assert.Throws<ArgumentException>(() => ObjectUri.Parse("oss://bucket/dir/").RequireObject());
        Assert.Throws<ArgumentException>(() => ObjectUri.Parse("oss://bucket").RequireObject());
        Assert.Equal("dir/x", ObjectUri.Parse("oss://bucket/dir/x").RequireObject().Key);
    }

    [Fact]
    public void ToString_ThenParse_RoundTrips()
    {
        var rng = new Random(7);
        for (int i = 0; i < 500; i++)
        {
            var uri = new ObjectUri("bucket-" + rng.Next(1000), RandomKey(rng));
            Assert.Equal(uri, ObjectUri.Parse(uri.ToString()));
            Assert.Equal(uri, ObjectKeys.FromGrainKey(uri.ToGrainKey()));
        }
    }

    internal static string RandomKey(Random rng)
    {
        const string alphabet = "ab/|:#@ é数😀.-_%+";
        var sb = new StringBuilder();
        int length = rng.Next(1, 60);
        for (int i = 0; i < length; i++)
            sb.Append(alphabet[rng.Next(alphabet.Length)]);
        string key = sb.ToString().TrimStart('/');
        // Surrogate pairs can be split by the random pick; keep the key well-formed UTF-16.
        return key.Length == 0 || char.IsSurrogate(key[^1]) || key.Any(char.IsSurrogate) ? "k" + i2(rng) : key;

        static string i2(Random r) => r.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed class ShardIdTests
{
    [Fact]
    public void GrainKey_RoundTrips_ForArbitraryKeysAndETags()
    {
        var rng = new Random(11);
        string[] etags = ["\"d41d8cd98f00b204e9800998ecf8427e\"", "\"abc-12\"", "W/\"weak|with:sep\"", "plain/slash"];
        for (int i = 0; i < 1000; i++)
        {
            var id = new ShardId(new ObjectUri("bkt", ObjectUriTests.RandomKey(rng)), etags[rng.Next(etags.Length)], 1 << rng.Next(16, 26), rng.Next(0, 100_000));
            Assert.Equal(id, ShardId.FromGrainKey(id.ToGrainKey()));
        }
    }

    [Fact]
    public void GrainKey_DiffersWhenETagDiffers_SoVersionsNeverShareShards()
    {
        var uri = new ObjectUri("bkt", "model.bin");
        Assert.NotEqual(new ShardId(uri, "\"v1\"", 8 << 20, 3).ToGrainKey(), new ShardId(uri, "\"v2\"", 8 << 20, 3).ToGrainKey());
    }

    [Theory]
    [InlineData(0, 10L, 8, 8)]
    [InlineData(1, 10L, 8, 2)]
    [InlineData(2, 10L, 8, 0)]
    [InlineData(0, 0L, 8, 0)]
    public void LengthIn_LastShardIsShort(int index, long size, int shardSize, int expected)
    {
        Assert.Equal(expected, new ShardId(new ObjectUri("bkt", "k"), "e", shardSize, index).LengthIn(size));
    }

    [Theory]
    [InlineData("")]
    [InlineData("8|0|x")]
    [InlineData("8|0|5:abc|bkt/k")]
    [InlineData("8|0|1:e|nobucketslash")]
    [InlineData("-1|0|1:e|bkt/k")]
    public void FromGrainKey_Malformed_ThrowsFormatException(string key)
    {
        Assert.ThrowsAny<Exception>(() => ShardId.FromGrainKey(key));
    }
}
