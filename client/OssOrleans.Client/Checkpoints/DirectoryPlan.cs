namespace OssOrleans.Client;

/// <summary>One file to materialize: the object, its path relative to the directory ('/'-separated) and its full local path.</summary>
internal sealed record PlannedFile(ObjectEntry Entry, string RelativePath, string FullPath);

/// <summary>
/// Maps object keys under a prefix to paths under a local directory, refusing every key that could escape or corrupt it.
/// All keys are checked before anything is written, and every problem is reported at once.
/// </summary>
internal static class DirectoryPlan
{
    /// <summary>The file in which a prepared directory records the size and ETag of each file it wrote.</summary>
    public const string ManifestName = ".ossorleans-prepare.json";

    // Linux file names are case-sensitive; Windows' and macOS's usually are not, so "A" and "a" would be one file there.
    public static StringComparer PathComparer { get; } = OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    /// <summary>The directory prefix to list: the key with a '/' appended unless it is empty or ends with one.</summary>
    public static string DirectoryPrefix(string key) => key.Length == 0 || key.EndsWith('/') ? key : key + "/";

    public static IReadOnlyList<PlannedFile> Build(string prefix, IEnumerable<ObjectEntry> entries, string root)
    {
        string rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        string rootWithSep = rootFull + Path.DirectorySeparatorChar;
        var problems = new List<string>();
        var files = new List<PlannedFile>();
        var filePaths = new Dictionary<string, string>(PathComparer);
        var directories = new Dictionary<string, string>(PathComparer);

        foreach (var entry in entries)
        {
            if (entry.IsPrefix)
                continue;
            string key = entry.Key;
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                problems.Add($"'{Show(key)}': not under the prefix '{Show(prefix)}'");
                continue;
            }
            string relative = key[prefix.Length..];
            if (Refuse(relative) is { } reason)
            {
                problems.Add($"'{Show(key)}': {reason}");
                continue;
            }
            string full = Path.GetFullPath(Path.Combine(rootFull, relative.Replace('/', Path.DirectorySeparatorChar)));
            if (!full.StartsWith(rootWithSep, StringComparison.Ordinal))
            {
                problems.Add($"'{Show(key)}': resolves to '{full}', outside '{rootFull}'");
                continue;
            }
            if (!filePaths.TryAdd(relative, key))
            {
                problems.Add($"'{Show(key)}': the same local file as '{Show(filePaths[relative])}'");
                continue;
            }
            for (int slash = relative.IndexOf('/'); slash >= 0; slash = relative.IndexOf('/', slash + 1))
                directories.TryAdd(relative[..slash], key);
            files.Add(new PlannedFile(entry, relative, full));
        }

        foreach (var (path, key) in filePaths)
        {
            if (directories.TryGetValue(path, out var child))
                problems.Add($"'{Show(key)}': a file and a directory of the same name (the directory holds '{Show(child)}')");
        }
        if (problems.Count > 0)
            throw new UnsafeObjectKeyException(problems);
        return files;
    }

    /// <summary>Why a path relative to the directory is refused, or null when it is safe.</summary>
    public static string? Refuse(string relative)
    {
        if (relative.Length == 0)
            return "a trailing '/' (a directory marker object, not a file)";
        if (relative.Contains('\0'))
            return "contains NUL";
        if (relative.Contains('\\'))
            return "contains a backslash (a path separator on Windows)";
        if (relative[0] == '/' || (relative.Length >= 2 && relative[1] == ':' && char.IsAsciiLetter(relative[0])))
            return "an absolute path";
        if (relative.EndsWith('/'))
            return "a trailing '/' (a directory marker object, not a file)";
        foreach (var segment in relative.Split('/'))
        {
            if (segment.Length == 0)
                return "an empty path segment ('//')";
            if (segment is "." or "..")
                return $"a '{segment}' segment";
        }
        if (PathComparer.Equals(relative, ManifestName))
            return $"'{ManifestName}' is the name this library records prepared files in";
        return null;
    }

    /// <summary>
    /// Refuses a directory tree that would send writes elsewhere: a directory on the way that is a symbolic link, or a path
    /// that exists as the other kind (a directory where a file goes, a file where a directory goes).
    /// </summary>
    public static void CheckExisting(string root, IReadOnlyList<PlannedFile> files)
    {
        string rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var problems = new List<string>();
        var seen = new HashSet<string>(PathComparer);
        foreach (var file in files)
        {
            string? dir = Path.GetDirectoryName(file.FullPath);
            while (dir is not null && dir.Length > rootFull.Length && seen.Add(dir))
            {
                if (File.Exists(dir))
                    problems.Add($"'{dir}' is a file where the directory for '{Show(file.Entry.Key)}' goes");
                else if (Directory.Exists(dir) && new DirectoryInfo(dir).LinkTarget is not null)
                    problems.Add($"'{dir}' is a symbolic link; writing '{Show(file.Entry.Key)}' through it could leave the directory");
                dir = Path.GetDirectoryName(dir);
            }
            if (Directory.Exists(file.FullPath))
                problems.Add($"'{file.FullPath}' is a directory where the file '{Show(file.Entry.Key)}' goes");
        }
        if (problems.Count > 0)
            throw new UnsafeObjectKeyException(problems);
    }

    private static string Show(string key) => key.Replace("\0", "\\0", StringComparison.Ordinal);
}
