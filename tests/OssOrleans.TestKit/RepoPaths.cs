namespace OssOrleans.TestKit;

/// <summary>Locates the repository root (the folder holding OssOrleans.sln) and well-known paths in it.</summary>
public static class RepoPaths
{
    public const string SolutionFileName = "OssOrleans.sln";

    /// <summary>Environment variable that names the repository root when the code runs from outside it.</summary>
    public const string RootVariable = "OSSORLEANS_REPO_ROOT";

    private static readonly Lazy<string> s_root = new(FindDefaultRoot);

    /// <summary>
    /// The repository root, found by walking up from <see cref="AppContext.BaseDirectory"/>, else from the
    /// current directory, else taken from the OSSORLEANS_REPO_ROOT environment variable.
    /// </summary>
    public static string Root => s_root.Value;

    /// <summary><c>&lt;root&gt;/tests/tools</c>: node tools pinned by tests/tools/package.json.</summary>
    public static string ToolsDirectory => Path.Combine(Root, "tests", "tools");

    /// <summary><c>&lt;root&gt;/tests/tools/node_modules/.bin/s3rver</c>.</summary>
    public static string S3rverExecutable => Path.Combine(ToolsDirectory, "node_modules", ".bin", "s3rver");

    /// <summary><c>&lt;root&gt;/tests/install-test-deps.sh</c>: the install script CI uses too.</summary>
    public static string InstallTestDepsScript => Path.Combine(Root, "tests", "install-test-deps.sh");

    private static string FindDefaultRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            if (TryFindRoot(start) is { } found)
            {
                return found;
            }
        }
        string? fromEnv = Environment.GetEnvironmentVariable(RootVariable);
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, SolutionFileName)))
        {
            return Path.GetFullPath(fromEnv);
        }
        throw new DirectoryNotFoundException(
            $"Could not find {SolutionFileName} above '{AppContext.BaseDirectory}' or '{Environment.CurrentDirectory}', " +
            $"and {RootVariable} does not name a folder holding it.");
    }

    /// <summary>Walks up from <paramref name="start"/> to the first folder that contains OssOrleans.sln.</summary>
    public static string FindRoot(string start) =>
        TryFindRoot(start) ?? throw new DirectoryNotFoundException(
            $"Could not find {SolutionFileName} in '{start}' or any of its parent folders.");

    private static string? TryFindRoot(string start)
    {
        ArgumentException.ThrowIfNullOrEmpty(start);
        var dir = new DirectoryInfo(Path.GetFullPath(start));
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName)))
            {
                return dir.FullName;
            }
            dir = dir.Parent;
        }
        return null;
    }
}
