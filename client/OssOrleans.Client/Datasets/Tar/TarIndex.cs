using System.Globalization;
using System.Text;

namespace OssOrleans.Client.Datasets.Tar;

/// <summary>
/// The tar index format: UTF-8 text, one line per regular member in archive order, after a header line:
/// <code>
/// # ossorleans-tar-index 1
/// &lt;data offset&gt;\t&lt;size&gt;\t&lt;member name&gt;
/// </code>
/// Offsets and sizes are decimal byte counts; a member's data is bytes [offset, offset + size) of the tar object. Names are
/// relative paths with '/' separators that passed <see cref="TarScanner.CheckName"/> (so they hold no tab, newline, '..'
/// segment or leading '/'). Lines starting with '#' are comments. Lines end with '\n' ("\r\n" is accepted).
/// </summary>
public static class TarIndex
{
    public const string Header = "# ossorleans-tar-index 1";

    /// <summary>Writes members in the index format.</summary>
    public static async Task WriteAsync(IAsyncEnumerable<TarMember> members, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(destination);
        var writer = new StreamWriter(destination, new UTF8Encoding(false), 64 << 10, leaveOpen: true) { NewLine = "\n" };
        await using (writer.ConfigureAwait(false))
        {
            await writer.WriteLineAsync(Header.AsMemory(), cancellationToken).ConfigureAwait(false);
            await foreach (var m in members.WithCancellation(cancellationToken).ConfigureAwait(false))
                await writer.WriteLineAsync(Line(m).AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    internal static string Line(TarMember m) =>
        TarScanner.CheckName(m.Name) is string reason
            ? throw new ArgumentException($"tar member '{m.Name}' cannot be indexed: {reason}")
            : string.Create(CultureInfo.InvariantCulture, $"{m.DataOffset}\t{m.Size}\t{m.Name}");

    /// <summary>
    /// Reads an index. A malformed line, a name that fails <see cref="TarScanner.CheckName"/>, or (when
    /// <paramref name="tarSize"/> is given) a member lying outside the tar raises <see cref="TarFormatException"/> with its line number.
    /// </summary>
    public static async IAsyncEnumerable<TarMember> ReadAsync(Stream index, long? tarSize = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        using var reader = new StreamReader(index, new UTF8Encoding(false, throwOnInvalidBytes: true), false, 64 << 10, leaveOpen: true);
        int lineNumber = 0;
        bool sawHeader = false;
        string? line;
        while ((line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)) is not null)
        {
            lineNumber++;
            if (line.Length == 0)
                continue;
            if (line[0] == '#')
            {
                if (lineNumber == 1)
                {
                    if (!line.StartsWith("# ossorleans-tar-index ", StringComparison.Ordinal))
                        throw new TarFormatException("not an ossorleans tar index: the first line must be '" + Header + "'");
                    if (line != Header)
                        throw new TarFormatException($"unsupported tar index version: '{line}'");
                    sawHeader = true;
                }
                continue;
            }
            if (!sawHeader)
                throw new TarFormatException("not an ossorleans tar index: the first line must be '" + Header + "'");
            yield return ParseLine(line, lineNumber, tarSize);
        }
    }

    internal static TarMember ParseLine(string line, int lineNumber, long? tarSize)
    {
        int t1 = line.IndexOf('\t');
        int t2 = t1 < 0 ? -1 : line.IndexOf('\t', t1 + 1);
        if (t2 < 0)
            throw new TarFormatException($"tar index line {lineNumber}: expected 'offset<TAB>size<TAB>name'");
        if (!long.TryParse(line.AsSpan(0, t1), NumberStyles.None, CultureInfo.InvariantCulture, out long offset)
            || !long.TryParse(line.AsSpan(t1 + 1, t2 - t1 - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long size)
            || size > TarScanner.MaxMemberSize)
        {
            throw new TarFormatException($"tar index line {lineNumber}: offset and size must be non-negative decimal numbers in range");
        }
        string name = line[(t2 + 1)..];
        if (TarScanner.CheckName(name) is string reason)
            throw new TarFormatException($"tar index line {lineNumber}: member '{name}' rejected: {reason}");
        if (tarSize is long total && (offset > total || size > total - offset))
            throw new TarFormatException($"tar index line {lineNumber}: member '{name}' [{offset}, {offset + size}) lies outside the {total}-byte tar");
        return new TarMember(name, offset, size);
    }
}
