using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Storage;

public class OssEndpointTests
{
    [Theory]
    [InlineData("oss-cn-beijing-internal.aliyuncs.com", "http://s3.oss-cn-beijing-internal.aliyuncs.com", "cn-beijing")]
    [InlineData("oss-cn-beijing.aliyuncs.com", "http://s3.oss-cn-beijing.aliyuncs.com", "cn-beijing")]
    [InlineData("https://oss-cn-hangzhou.aliyuncs.com", "https://s3.oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou")]
    [InlineData("http://oss-ap-southeast-1-internal.aliyuncs.com/", "http://s3.oss-ap-southeast-1-internal.aliyuncs.com", "ap-southeast-1")]
    [InlineData("s3.oss-cn-shanghai.aliyuncs.com", "http://s3.oss-cn-shanghai.aliyuncs.com", "cn-shanghai")]
    [InlineData("https://s3.oss-us-west-1-internal.aliyuncs.com", "https://s3.oss-us-west-1-internal.aliyuncs.com", "us-west-1")]
    [InlineData("  OSS-CN-BEIJING.ALIYUNCS.COM  ", "http://s3.oss-cn-beijing.aliyuncs.com", "cn-beijing")]
    [InlineData("http://oss-cn-beijing.aliyuncs.com:8080", "http://s3.oss-cn-beijing.aliyuncs.com:8080", "cn-beijing")]
    public void Resolve_OssEndpoint_MapsToS3HostVirtualHostedWithRegion(string endpoint, string expectedUrl, string expectedRegion)
    {
        OssEndpointInfo info = OssEndpoint.Resolve(endpoint);

        Assert.Equal(expectedUrl, info.DisplayUrl);
        Assert.Equal(expectedRegion, info.AuthenticationRegion);
        Assert.False(info.ForcePathStyle);
        Assert.True(info.IsOss);
    }

    [Fact]
    public void Resolve_OssEndpointWithoutScheme_UsesHttp()
    {
        OssEndpointInfo info = OssEndpoint.Resolve("oss-cn-beijing-internal.aliyuncs.com");

        Assert.True(info.UseHttp);
        Assert.Equal("http", info.ServiceUrl.Scheme);
    }

    [Theory]
    [InlineData("oss-accelerate.aliyuncs.com", "http://s3.oss-accelerate.aliyuncs.com")]
    [InlineData("https://oss-accelerate-overseas.aliyuncs.com", "https://s3.oss-accelerate-overseas.aliyuncs.com")]
    public void Resolve_AccelerateEndpointWithRegion_MapsAndUsesGivenRegion(string endpoint, string expectedUrl)
    {
        OssEndpointInfo info = OssEndpoint.Resolve(endpoint, region: "cn-shanghai");

        Assert.Equal(expectedUrl, info.DisplayUrl);
        Assert.Equal("cn-shanghai", info.AuthenticationRegion);
        Assert.True(info.IsOss);
    }

    [Fact]
    public void Resolve_AccelerateEndpointWithoutRegion_ThrowsNamingRegion()
    {
        var ex = Assert.Throws<ArgumentException>(() => OssEndpoint.Resolve("oss-accelerate.aliyuncs.com"));
        Assert.Contains("S3StoreOptions.Region", ex.Message);
    }

    [Fact]
    public void Resolve_OssEndpointWithExplicitRegion_ExplicitRegionWins()
    {
        Assert.Equal("cn-north-2", OssEndpoint.Resolve("oss-cn-beijing.aliyuncs.com", region: "cn-north-2").AuthenticationRegion);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9000", "http://127.0.0.1:9000")]
    [InlineData("127.0.0.1:4568", "http://127.0.0.1:4568")]
    [InlineData("localhost:4568", "http://localhost:4568")]
    [InlineData("http://minio:9000", "http://minio:9000")]
    [InlineData("https://storage.example.com", "https://storage.example.com")]
    [InlineData("http://[::1]:9000", "http://[::1]:9000")]
    public void Resolve_NonOssEndpoint_UsedAsIsWithPathStyleAndDefaultRegion(string endpoint, string expectedUrl)
    {
        OssEndpointInfo info = OssEndpoint.Resolve(endpoint);

        Assert.Equal(expectedUrl, info.DisplayUrl);
        Assert.True(info.ForcePathStyle);
        Assert.False(info.IsOss);
        Assert.Equal("us-east-1", info.AuthenticationRegion);
    }

    [Fact]
    public void Resolve_AwsEndpoint_VirtualHostedWithGivenRegion()
    {
        OssEndpointInfo info = OssEndpoint.Resolve("https://s3.us-west-2.amazonaws.com", region: "us-west-2");

        Assert.False(info.ForcePathStyle);
        Assert.Equal("us-west-2", info.AuthenticationRegion);
        Assert.False(info.IsOss);
    }

    [Fact]
    public void Resolve_ExplicitForcePathStyle_OverridesTheDefault()
    {
        Assert.False(OssEndpoint.Resolve("http://127.0.0.1:9000", forcePathStyle: false).ForcePathStyle);
        Assert.True(OssEndpoint.Resolve("oss-cn-beijing.aliyuncs.com", forcePathStyle: true).ForcePathStyle);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("ftp://example.com")]
    [InlineData("http://")]
    [InlineData("http://example.com/bucket")]
    [InlineData("http://example.com/?x=1")]
    [InlineData("not a host")]
    [InlineData("mybucket.oss-cn-beijing.aliyuncs.com")]
    public void Resolve_BadEndpoint_ThrowsArgumentExceptionNamingTheOption(string endpoint)
    {
        var ex = Assert.Throws<ArgumentException>(() => OssEndpoint.Resolve(endpoint));
        Assert.Contains("S3StoreOptions.Endpoint", ex.Message);
    }

    [Fact]
    public void Resolve_EndpointWithUserInfo_ThrowsWithoutEchoingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => OssEndpoint.Resolve("http://AKID:SECRET-do-not-log-123@127.0.0.1:9000"));
        Assert.Contains("S3StoreOptions.Endpoint", ex.Message);
        Assert.DoesNotContain("SECRET-do-not-log-123", ex.ToString());
    }
}
