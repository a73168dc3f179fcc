using OssOrleans.Gateway.Protocol;
using static OssOrleans.UnitTests.Gateway.GatewayRequests;

namespace OssOrleans.UnitTests.Gateway;

public class S3AddressingTests
{
    private static readonly S3AddressResolver Resolver = new(["s3.example.com", "localhost"]);

    private static S3Target Resolve(string rawTarget, string host = "gateway.internal:9000")
    {
        Assert.True(Resolver.TryResolve(Head("GET", rawTarget, ("Host", host)), out var target, out var error), $"refused: {error}");
        return target;
    }

    private static S3Error Refused(string rawTarget, string host = "gateway.internal:9000")
    {
        Assert.False(Resolver.TryResolve(Head("GET", rawTarget, ("Host", host)), out _, out var error));
        return error;
    }

    [Theory]
    [InlineData("/", null, null)]
    [InlineData("/bucket", "bucket", null)]
    [InlineData("/bucket/", "bucket", null)]
    [InlineData("/bucket/key", "bucket", "key")]
    [InlineData("/bucket/dir/sub/file.txt", "bucket", "dir/sub/file.txt")]
    [InlineData("/bucket//leading-slash", "bucket", "/leading-slash")]
    [InlineData("/bucket/a%2Fb", "bucket", "a/b")]
    [InlineData("/bucket/a%20b%2Bc", "bucket", "a b+c")]
    [InlineData("/bucket/a+b", "bucket", "a b")]
    [InlineData("/bucket/%E6%97%A5%E6%9C%AC", "bucket", "日本")]
    [InlineData("/bucket/dot/../segments/./kept", "bucket", "dot/../segments/./kept")]
    [InlineData("/bucket/%2525", "bucket", "%25")]
    [InlineData("/bucket/%01control", "bucket", "\u0001control")]
    [InlineData("/bucket/a?b", "bucket", "a")]
    public void TryResolve_PathStyle_DecodesTheKeyOnce(string rawTarget, string? bucket, string? key)
    {
        var target = Resolve(rawTarget);

        Assert.Equal(bucket, target.Bucket);
        Assert.Equal(key, target.Key);
        Assert.False(target.VirtualHosted);
    }

    [Theory]
    [InlineData("my-bucket.s3.example.com", "/", "my-bucket", null)]
    [InlineData("my-bucket.s3.example.com:9000", "/photos/a.jpg", "my-bucket", "photos/a.jpg")]
    [InlineData("My.Bucket.S3.Example.COM", "/k", "my.bucket", "k")]
    [InlineData("bk1.localhost:8080", "/x%20y", "bk1", "x y")]
    [InlineData("my-bucket.s3.example.com.", "/k", "my-bucket", "k")]
    public void TryResolve_VirtualHosted_TakesTheBucketFromTheHost(string host, string rawTarget, string bucket, string? key)
    {
        var target = Resolve(rawTarget, host);

        Assert.Equal(bucket, target.Bucket);
        Assert.Equal(key, target.Key);
        Assert.True(target.VirtualHosted);
    }

    [Theory]
    [InlineData("s3.example.com")]
    [InlineData("s3.example.com:443")]
    [InlineData("localhost:9000")]
    [InlineData("127.0.0.1:9000")]
    [InlineData("[::1]:9000")]
    [InlineData("other.example.org")]
    [InlineData("evil-s3.example.com")]
    [InlineData("")]
    public void TryResolve_HostNotUnderABaseDomain_IsPathStyle(string host)
    {
        var target = Resolve("/bucket/key", host);

        Assert.Equal("bucket", target.Bucket);
        Assert.Equal("key", target.Key);
        Assert.False(target.VirtualHosted);
    }

    [Fact]
    public void TryResolve_WithoutBaseDomains_IsAlwaysPathStyle()
    {
        var resolver = new S3AddressResolver([]);

        Assert.True(resolver.TryResolve(Head("GET", "/bucket/key", ("Host", "bucket.s3.example.com")), out var target, out _));
        Assert.Equal("bucket", target.Bucket);
        Assert.Equal("key", target.Key);
    }

    [Theory]
    [InlineData("/Bucket/key", "InvalidBucketName")]
    [InlineData("/ab/key", "InvalidBucketName")]
    [InlineData("/bucket_name/key", "InvalidBucketName")]
    [InlineData("/192.168.1.1/key", "InvalidBucketName")]
    [InlineData("/my..bucket/key", "InvalidBucketName")]
    [InlineData("/-bucket/key", "InvalidBucketName")]
    [InlineData("/buck%2Fet/key", "InvalidBucketName")]
    [InlineData("/bucket/k%zz", "InvalidURI")]
    [InlineData("/bucket/k%", "InvalidURI")]
    [InlineData("/bucket/%FF%FE", "InvalidURI")]
    [InlineData("/bucket/%C0%AF", "InvalidURI")]
    public void TryResolve_BadNames_AreRefusedWithS3Codes(string rawTarget, string code) => Assert.Equal(code, Refused(rawTarget).Code);

    [Fact]
    public void TryResolve_KeyOf1024Bytes_IsTheLimit()
    {
        string longest = new('k', 1024);
        string tooLong = new string('k', 1023) + "é";

        Assert.Equal(longest, Resolve("/bucket/" + longest).Key);
        Assert.Equal("KeyTooLongError", Refused("/bucket/" + S3Uri.Encode(tooLong, keepSlash: true)).Code);
    }

    [Fact]
    public void TryResolve_VirtualHostWithInvalidBucketLabel_IsInvalidBucketName() =>
        Assert.Equal("InvalidBucketName", Refused("/k", "a_b.s3.example.com").Code);

    [Theory]
    [InlineData("http://s3.example.com")]
    [InlineData("s3.example.com:9000")]
    [InlineData("s3.example.com/path")]
    [InlineData(".example.com")]
    [InlineData("")]
    public void Constructor_BaseDomainThatIsNotAHostName_Throws(string domain) =>
        Assert.Throws<ArgumentException>(() => new S3AddressResolver([domain]));

    [Theory]
    [InlineData("http://host/bucket/key")]
    [InlineData("*")]
    [InlineData("bucket/key")]
    [InlineData("/bucket/key#fragment")]
    public void TryCreate_TargetThatIsNotAnOriginPath_IsInvalidUri(string rawTarget)
    {
        Assert.False(S3RequestHead.TryCreate("GET", rawTarget, Headers(), out _, out var error));
        Assert.Equal("InvalidURI", error.Code);
    }

    [Fact]
    public void TryCreate_QueryWithBadEscape_IsInvalidUri()
    {
        Assert.False(S3RequestHead.TryCreate("GET", "/b?prefix=%G0", Headers(), out _, out var error));
        Assert.Equal("InvalidURI", error.Code);
    }

    [Fact]
    public void TryCreate_TooManyQueryParameters_IsInvalidArgument()
    {
        string query = string.Join('&', Enumerable.Range(0, S3Query.MaxParameters + 1).Select(i => $"p{i}=1"));

        Assert.False(S3RequestHead.TryCreate("GET", "/b?" + query, Headers(), out _, out var error));
        Assert.Equal("InvalidArgument", error.Code);
    }

    [Theory]
    [InlineData("abc", null)]
    [InlineData("a.b-c.d1", null)]
    [InlineData("xn--bucket", "InvalidBucketName")]
    [InlineData("sthree-bucket", "InvalidBucketName")]
    [InlineData("bucket-s3alias", "InvalidBucketName")]
    [InlineData("bucket--ol-s3", "InvalidBucketName")]
    [InlineData("bucket-", "InvalidBucketName")]
    [InlineData("1.2.3.4", "InvalidBucketName")]
    [InlineData("1.2.3.4a", null)]
    public void ValidateBucket_FollowsS3Rules(string bucket, string? code) => Assert.Equal(code, S3Names.ValidateBucket(bucket)?.Code);

    [Fact]
    public void ValidateBucket_SixtyThreeCharacters_IsTheLimit()
    {
        Assert.Null(S3Names.ValidateBucket(new string('a', 63)));
        Assert.Equal("InvalidBucketName", S3Names.ValidateBucket(new string('a', 64))!.Code);
    }

    [Fact]
    public void ValidateKey_EmptyOrBrokenUnicode_IsRefused()
    {
        Assert.Equal("InvalidArgument", S3Names.ValidateKey("")?.Code);
        Assert.Equal("InvalidArgument", S3Names.ValidateKey("a" + (char)0xD800 + "b")?.Code);
        Assert.Equal("InvalidArgument", S3Names.ValidateKey("a" + (char)0xDC00)?.Code);
        Assert.Null(S3Names.ValidateKey("ok 🙂"));
    }
}
