using OssOrleans.Grains.Security;

namespace OssOrleans.UnitTests.Security;

public sealed class GrantAndTenantTests
{
    [Theory]
    [InlineData("read,list oss://data/team-a/", "data", "team-a/", AccessVerbs.Read | AccessVerbs.List)]
    [InlineData("write s3://ckpt/", "ckpt", "", AccessVerbs.Write)]
    [InlineData("  READ , Write   oss://data/x ", "data", "x", AccessVerbs.Read | AccessVerbs.Write)]
    [InlineData("admin oss://*", "*", "", AccessVerbs.Admin)]
    [InlineData("read oss://data/my folder/", "data", "my folder/", AccessVerbs.Read)]
    public void Parse_ValidGrants(string text, string bucket, string prefix, AccessVerbs verbs)
    {
        Assert.Equal(new Grant(bucket, prefix, verbs), Grant.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("read")]
    [InlineData("fly oss://data/")]
    [InlineData("read data/x")]
    [InlineData("read oss://BAD_BUCKET/x")]
    [InlineData("read oss://*/x")]
    [InlineData(", oss://data/")]
    public void Parse_BadGrants_AreFormatErrors(string text)
    {
        Assert.Throws<FormatException>(() => Grant.Parse(text));
    }

    private static Tenant TeamA() => Build("read,list oss://data/team-a/", "write oss://ckpt/team-a/");

    private static Tenant Build(params string[] grants) =>
        new TenantRegistry(new AuthOptions { Tenants = [new TenantOptions { AccessKeyId = "team-a", Secret = "0123456789abcdef", Grants = [.. grants] }] })
            .Tenants.Single();

    [Theory]
    [InlineData(AccessVerbs.Read, "data", "team-a/x", true)]
    [InlineData(AccessVerbs.Read, "data", "team-ab/x", false)]
    [InlineData(AccessVerbs.Read, "data", "team-b/x", false)]
    [InlineData(AccessVerbs.Write, "data", "team-a/x", false)]
    [InlineData(AccessVerbs.Write, "ckpt", "team-a/step-1", true)]
    [InlineData(AccessVerbs.Read, "ckpt", "team-a/step-1", false)]
    [InlineData(AccessVerbs.Read, "other", "team-a/x", false)]
    public void Allows_IsPrefixAndVerbExact(AccessVerbs verb, string bucket, string key, bool allowed)
    {
        Assert.Equal(allowed, TeamA().Allows(verb, bucket, key));
    }

    [Theory]
    [InlineData("data", "team-a/", ListVisibility.Full)]
    [InlineData("data", "team-a/sub/", ListVisibility.Full)]
    [InlineData("data", "", ListVisibility.Partial)]
    [InlineData("data", "team", ListVisibility.Partial)]
    [InlineData("data", "team-b/", ListVisibility.None)]
    [InlineData("ckpt", "team-a/", ListVisibility.None)]
    public void VisibilityOf_Prefixes(string bucket, string prefix, ListVisibility expected)
    {
        Assert.Equal(expected, TeamA().VisibilityOf(bucket, prefix));
    }

    [Theory]
    [InlineData("team-a/x", false, true)]
    [InlineData("team-b/x", false, false)]
    [InlineData("team-a/", true, true)]
    [InlineData("team-", true, true)]
    [InlineData("team-b/", true, false)]
    [InlineData("t", true, true)]
    public void CanSee_KeysAndCommonPrefixes(string item, bool isPrefix, bool visible)
    {
        Assert.Equal(visible, TeamA().CanSee("data", item, isPrefix));
    }

    [Fact]
    public void Anonymous_MayDoEverything_AndIsClusterAdmin()
    {
        Assert.True(Tenant.Anonymous.Allows(AccessVerbs.Write, "any", "thing"));
        Assert.Equal(ListVisibility.Full, Tenant.Anonymous.VisibilityOf("any", ""));
        Assert.True(Tenant.Anonymous.IsClusterAdmin);
        Assert.False(TeamA().IsClusterAdmin);
        Assert.True(Build("admin oss://*").IsClusterAdmin);
        Assert.False(Build("admin oss://data/").IsClusterAdmin);
    }

    [Fact]
    public void Registry_DuplicateOrReservedIds_AndShortSecrets_AreRefused_WithoutTheSecret()
    {
        var dup = new AuthOptions
        {
            Tenants =
            [
                new TenantOptions { AccessKeyId = "a-1", Secret = "0123456789abcdef" },
                new TenantOptions { AccessKeyId = "a-1", Secret = "0123456789abcdefXYZ" },
            ],
        };
        Assert.Contains("given twice", Assert.Throws<InvalidOperationException>(() => new TenantRegistry(dup)).Message, StringComparison.Ordinal);
        var reserved = new AuthOptions { Tenants = [new TenantOptions { AccessKeyId = "anonymous", Secret = "0123456789abcdef" }] };
        Assert.Contains("reserved", Assert.Throws<InvalidOperationException>(() => new TenantRegistry(reserved)).Message, StringComparison.Ordinal);
        var shortSecret = new AuthOptions { Tenants = [new TenantOptions { AccessKeyId = "a-1", Secret = "tiny-secret" }] };
        var ex = Assert.Throws<InvalidOperationException>(() => new TenantRegistry(shortSecret));
        Assert.DoesNotContain("tiny-secret", ex.Message, StringComparison.Ordinal);
        Assert.True(new TenantRegistry(new AuthOptions()).IsAnonymous);
    }

    [Fact]
    public void Tenant_ToString_NeverShowsTheSecret()
    {
        Assert.DoesNotContain("0123456789abcdef", TeamA().ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef", new TenantOptions { AccessKeyId = "x", Secret = "0123456789abcdef" }.ToString(), StringComparison.Ordinal);
    }
}
