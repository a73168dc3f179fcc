namespace OssOrleans.Client.Datasets;

/// <summary>One line of a manifest: an object key (relative to the base URI, or a full oss:// URI) and an optional label.</summary>
public readonly record struct ManifestEntry(string Key, string? Label);

/// <summary>
/// Turns a manifest line into an entry, or null to skip the line. <see cref="Id"/> names the parser in the snapshot key,
/// so ranks using different parsers on one manifest never share a snapshot.
/// </summary>
public sealed class ManifestParser
{
    private readonly Func<string, ManifestEntry?> _parse;

    private ManifestParser(string id, Func<string, ManifestEntry?> parse)
    {
        Id = id;
        _parse = parse;
    }

    public string Id { get; }

    /// <summary>"key&lt;TAB&gt;label" per line (the label is optional). Empty lines and lines starting with '#' are skipped.</summary>
    public static ManifestParser TabSeparated { get; } = new("builtin:tsv", line => Split(line, '\t'));

    /// <summary>"key label" per line, separated by one or more spaces (the label is optional; keys cannot hold spaces).</summary>
    public static ManifestParser SpaceSeparated { get; } = new("builtin:space", line => Split(line, ' '));

    /// <summary>A custom parser; give each distinct parser its own <paramref name="id"/>.</summary>
    public static ManifestParser Create(string id, Func<string, ManifestEntry?> parse)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(parse);
        return new ManifestParser("custom:" + id, parse);
    }

    internal ManifestEntry? Parse(string line) => _parse(line);

    private static ManifestEntry? Split(string line, char separator)
    {
        var t = line.TrimEnd('\r');
        if (t.Length == 0 || t[0] == '#' || string.IsNullOrWhiteSpace(t))
            return null;
        int at = t.IndexOf(separator);
        if (at < 0)
            return new ManifestEntry(t.Trim(), null);
        string key = t[..at].Trim();
        string label = t[(at + 1)..].Trim(separator, ' ');
        return new ManifestEntry(key, label.Length == 0 ? null : label);
    }
}
