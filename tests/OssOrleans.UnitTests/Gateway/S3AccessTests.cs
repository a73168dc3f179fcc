using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Security;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>What each S3 operation needs of a tenant's grants, for exactly the bucket, key or prefix it names.</summary>
public class S3AccessTests
{
    private static readonly Tenant TeamA = new("team-a", "secret-of-team-a-0123", [
        Grant.Parse("read,list oss://data/team-a/"), Grant.Parse("write oss://data/team-a/out/"), Grant.Parse("admin oss://scratch")]);

    private static S3Error? Check(S3Operation operation, string? bucket, string? key, string query = "", string? copySource = null)
    {
        var headers = new HeaderDictionary();
        if (copySource is not null)
            headers["x-amz-copy-source"] = copySource;
        Assert.True(S3RequestHead.TryCreate("GET", "/", query, headers, out var head, out _));
        return S3Access.Check(TeamA, operation, new S3Target(bucket, key, false), head, out _);
    }

    [Theory]
    [InlineData("GetObject", "data", "team-a/x", true)]
    [InlineData("GetObject", "data", "team-b/x", false)]
    [InlineData("GetObject", "other", "team-a/x", false)]
    [InlineData("HeadObject", "data", "team-a", false)]
    [InlineData("PutObject", "data", "team-a/out/model.bin", true)]
    [InlineData("PutObject", "data", "team-a/in/model.bin", false)]
    [InlineData("UploadPart", "data", "team-a/x", false)]
    [InlineData("CompleteMultipartUpload", "data", "team-a/out/x", true)]
    [InlineData("DeleteObject", "data", "team-a/x", false)]
    [InlineData("CreateBucket", "scratch", null, true)]
    [InlineData("CreateBucket", "data", null, false)]
    [InlineData("DeleteBucket", "scratch2", null, false)]
    [InlineData("HeadBucket", "data", null, true)]
    [InlineData("HeadBucket", "nobody", null, false)]
    [InlineData("DeleteObjects", "data", null, true)]
    [InlineData("DeleteObjects", "scratch", null, false)]
    [InlineData("ListBuckets", null, null, true)]
    public void Check_Operation_AllowedExactlyWhereAGrantCoversIt(string operation, string? bucket, string? key, bool allowed)
    {
        Assert.Equal(allowed, Check(Enum.Parse<S3Operation>(operation), bucket, key) is null);
    }

    [Theory]
    [InlineData("prefix=team-a%2F", true)]
    [InlineData("prefix=team-a%2Fsub%2F", true)]
    [InlineData("", true)]
    [InlineData("prefix=team-b%2F", false)]
    [InlineData("prefix=team", true)]
    public void Check_ListObjects_NeedsSomethingVisibleUnderThePrefix(string query, bool allowed)
    {
        Assert.Equal(allowed, Check(S3Operation.ListObjectsV2, "data", null, query) is null);
    }

    [Theory]
    [InlineData("prefix=team-a%2F", true)]
    [InlineData("", false)]
    public void Check_ListMultipartUploads_NeedsTheWholePrefixVisible(string query, bool allowed)
    {
        Assert.Equal(allowed, Check(S3Operation.ListMultipartUploads, "data", null, query) is null);
    }

    [Theory]
    [InlineData("/data/team-a/in.bin", true)]
    [InlineData("data/team-b/in.bin", false)]
    [InlineData("/other/team-a/in.bin", false)]
    public void Check_Copy_NeedsReadOnTheSourceAndWriteOnTheTarget(string source, bool allowed)
    {
        Assert.Equal(allowed, Check(S3Operation.CopyObject, "data", "team-a/out/copy.bin", copySource: source) is null);
        Assert.NotNull(Check(S3Operation.CopyObject, "data", "team-a/elsewhere.bin", copySource: source));
    }

    [Fact]
    public void Check_Refusal_IsAccessDenied()
    {
        var error = Check(S3Operation.GetObject, "data", "team-b/x");

        Assert.Equal(("AccessDenied", 403), (error!.Code, error.StatusCode));
    }
}
