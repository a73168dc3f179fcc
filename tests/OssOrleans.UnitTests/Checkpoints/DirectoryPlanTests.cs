using OssOrleans.Client;

namespace OssOrleans.UnitTests.Checkpoints;

public sealed class DirectoryPlanTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ossorleans-plan-" + Guid.NewGuid().ToString("N"));

    private static ObjectEntry File(string key, long size = 1) => new(key, size, "\"etag\"", DateTimeOffset.UnixEpoch);

    [Fact]
    public void Build_SafeKeys_MapsEachUnderTheRoot()
    {
        var plan = DirectoryPlan.Build("models/tiny/", [File("models/tiny/config.json"), File("models/tiny/weights/part-1.bin"), File("models/tiny/.hidden")], _root);

        Assert.Equal(["config.json", "weights/part-1.bin", ".hidden"], plan.Select(p => p.RelativePath));
        Assert.Equal(Path.Combine(_root, "weights", "part-1.bin"), plan[1].FullPath);
    }

    [Theory]
    [InlineData("m/../escape.bin", "'..'")]
    [InlineData("m/../../etc/passwd", "'..'")]
    [InlineData("m/a/./b", "'.'")]
    [InlineData("m//etc/passwd", "absolute")]
    [InlineData("m/a//b", "empty path segment")]
    [InlineData("m/a\0b", "NUL")]
    [InlineData("m/dir/", "trailing '/'")]
    [InlineData("m/", "trailing '/'")]
    [InlineData("m/C:/Windows/x", "absolute")]
    [InlineData("m/a\\..\\b", "backslash")]
    [InlineData("m/.ossorleans-prepare.json", "records prepared files")]
    public void Build_UnsafeKey_IsRefusedWithItsReason(string key, string reason)
    {
        var ex = Assert.Throws<UnsafeObjectKeyException>(() => DirectoryPlan.Build("m/", [File("m/ok.bin"), File(key)], _root));

        var problem = Assert.Single(ex.Problems);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.Contains("nothing was written", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_FileAndDirectoryOfTheSameName_IsRefused()
    {
        var ex = Assert.Throws<UnsafeObjectKeyException>(() => DirectoryPlan.Build("m/", [File("m/a"), File("m/a/b.bin")], _root));

        Assert.Contains("a file and a directory of the same name", Assert.Single(ex.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SeveralBadKeys_ReportsEveryOne()
    {
        var ex = Assert.Throws<UnsafeObjectKeyException>(() => DirectoryPlan.Build("m/", [File("m/../a"), File("m/b/"), File("m/c\0")], _root));

        Assert.Equal(3, ex.Problems.Count);
    }

    [Fact]
    public void DirectoryPrefix_AddsTheSlashOfADirectory()
    {
        Assert.Equal("models/tiny/", DirectoryPlan.DirectoryPrefix("models/tiny"));
        Assert.Equal("models/tiny/", DirectoryPlan.DirectoryPrefix("models/tiny/"));
        Assert.Equal("", DirectoryPlan.DirectoryPrefix(""));
    }

    [Fact]
    public void CheckExisting_SymbolicLinkOnTheWay_IsRefused()
    {
        var outside = Path.Combine(_root, "..", Path.GetFileName(_root) + "-outside");
        Directory.CreateDirectory(outside);
        try
        {
            Directory.CreateDirectory(_root);
            Directory.CreateSymbolicLink(Path.Combine(_root, "weights"), outside);
            var plan = DirectoryPlan.Build("m/", [File("m/weights/part-1.bin")], _root);

            var ex = Assert.Throws<UnsafeObjectKeyException>(() => DirectoryPlan.CheckExisting(_root, plan));
            Assert.Contains("symbolic link", Assert.Single(ex.Problems), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void CheckExisting_DirectoryWhereAFileGoes_IsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_root, "config.json"));
        var plan = DirectoryPlan.Build("m/", [File("m/config.json")], _root);

        Assert.Throws<UnsafeObjectKeyException>(() => DirectoryPlan.CheckExisting(_root, plan));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
