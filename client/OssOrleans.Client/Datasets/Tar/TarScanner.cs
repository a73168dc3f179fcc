using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace OssOrleans.Client.Datasets.Tar;

/// <summary>A regular file in a tar archive: its name and where its data lies, bytes [DataOffset, DataOffset + Size).</summary>
public sealed record TarMember(string Name, long DataOffset, long Size);

/// <summary>An entry the scanner did not index (a directory, a link, a name that would escape a folder...), and why.</summary>
public sealed record TarSkippedEntry(string Name, long HeaderOffset, string Reason);

/// <summary>The archive is malformed: truncated, a bad header checksum, or a size field out of range.</summary>
public sealed class TarFormatException : FormatException
{
    public TarFormatException(string message) : base(message) { }
}

/// <summary>
/// Reads tar headers (ustar, pax and GNU, as written by GNU tar, bsdtar, Python's tarfile and System.Formats.Tar) and
/// yields each regular file with the offset of its data, which <see cref="System.Formats.Tar"/> does not expose.
/// Hostile input is expected: every field is bounds-checked, and a malformed archive raises
/// <see cref="TarFormatException"/> naming the offset, never an index error or a huge allocation.
/// </summary>
public static class TarScanner
{
    private const int Block = 512;

    // Limits on metadata entries, whose data is read into memory: a pax header of a few records, a long name.
    private const int MaxPaxHeaderBytes = 1 << 20;
    private const int MaxLongNameBytes = 64 << 10;

    /// <summary>Largest member size accepted (1 TiB); a larger size field is treated as corrupt.</summary>
    public const long MaxMemberSize = 1L << 40;

    /// <summary>
    /// Yields the regular files of <paramref name="tar"/> in archive order. Skipped entries are reported to
    /// <paramref name="onSkipped"/> with their reason. The stream is read forward only; data is skipped by seeking when it can.
    /// </summary>
    public static async IAsyncEnumerable<TarMember> ScanAsync(Stream tar, Action<TarSkippedEntry>? onSkipped = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        long? length = tar.CanSeek ? tar.Length - tar.Position : null;
        long start = tar.CanSeek ? tar.Position : 0;
        var header = ArrayPool<byte>.Shared.Rent(Block);
        try
        {
            long pos = 0;
            string? longName = null, paxPath = null;
            long? paxSize = null;
            bool first = true;
            while (true)
            {
                int got = await tar.ReadAtLeastAsync(header.AsMemory(0, Block), Block, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (got == 0)
                {
                    if (longName is not null || paxPath is not null || paxSize is not null)
                        throw new TarFormatException($"truncated archive: it ends at offset {pos} after an extended header, before the entry it describes");
                    yield break; // No end-of-archive blocks: tolerated, as GNU tar does.
                }
                if (got < Block)
                    throw new TarFormatException($"truncated archive: a header at offset {pos} has only {got} of {Block} bytes");
                var h = header.AsSpan(0, Block);
                if (!h.ContainsAnyExcept((byte)0))
                    yield break; // End-of-archive marker.

                var entry = ParseHeader(h, pos, first);
                first = false;
                long headerOffset = pos;
                pos += Block;
                long size = entry.Size;
                if (entry.Type == 'x' || entry.Type == 'X')
                {
                    var data = await ReadMetadataAsync(tar, size, MaxPaxHeaderBytes, pos, length, "pax extended header", cancellationToken).ConfigureAwait(false);
                    pos += Padded(size);
                    ApplyPax(data, headerOffset, ref paxPath, ref paxSize);
                    continue;
                }
                if (entry.Type == 'L')
                {
                    var data = await ReadMetadataAsync(tar, size, MaxLongNameBytes, pos, length, "GNU long name", cancellationToken).ConfigureAwait(false);
                    pos += Padded(size);
                    longName = CString(data);
                    continue;
                }

                // A pax header, then a GNU long name, override the header's own name and size.
                string name = paxPath ?? longName ?? entry.Name;
                if (paxSize is long ps)
                    size = ps;
                paxPath = null;
                longName = null;
                paxSize = null;
                long dataOffset = pos;
                if (length is long total && dataOffset + size > total)
                    throw new TarFormatException($"truncated archive: entry '{Shorten(name)}' at offset {headerOffset} has {size} bytes of data from offset {dataOffset}, but the archive ends at {total}");

                string? reason = entry.Type switch
                {
                    '0' or '\0' or '7' when name.EndsWith('/') => "directory",
                    '0' or '\0' or '7' => CheckName(name),
                    'g' => "pax global header",
                    'K' => "GNU long link name",
                    '1' => "hard link",
                    '2' => "symbolic link",
                    '3' => "character device",
                    '4' => "block device",
                    '5' => "directory",
                    '6' => "FIFO",
                    'S' => "GNU sparse file (not supported)",
                    'D' => "GNU directory dump",
                    'V' => "volume label",
                    'M' => "multi-volume continuation",
                    _ => $"unknown entry type '{Printable(entry.Type)}'",
                };
                if (reason is null)
                    yield return new TarMember(NormalizeName(name), dataOffset, size);
                else
                    onSkipped?.Invoke(new TarSkippedEntry(name, headerOffset, reason));

                await SkipAsync(tar, size, start + pos, pos, name, cancellationToken).ConfigureAwait(false);
                pos += Padded(size);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <summary>
    /// Null when <paramref name="name"/> is safe to use as a relative path under any folder; otherwise why not. Rejected:
    /// empty names, absolute paths (a leading '/' or '\', a drive letter), any '..' segment, backslashes, and control
    /// characters (which also keeps the line-based index format unambiguous).
    /// </summary>
    public static string? CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = NormalizeName(name);
        if (n.Length == 0)
            return "empty name";
        if (n[0] == '/' || name[0] == '/')
            return "absolute path";
        if (n.Length >= 2 && n[1] == ':' && char.IsAsciiLetter(n[0]))
            return "absolute path (drive letter)";
        if (n.Contains('\\'))
            return "backslash in name";
        foreach (char c in n)
        {
            if (char.IsControl(c))
                return "control character in name";
        }
        foreach (var segment in n.Split('/'))
        {
            if (segment == "..")
                return "'..' in path";
        }
        if (Encoding.UTF8.GetByteCount(n) > ObjectUri.MaxKeyBytes)
            return $"name longer than {ObjectUri.MaxKeyBytes} bytes";
        return null;
    }

    /// <summary>Drops leading "./" segments, as tar tools write them for relative paths.</summary>
    internal static string NormalizeName(string name)
    {
        while (name.StartsWith("./", StringComparison.Ordinal))
            name = name[2..];
        return name;
    }

    internal static long Padded(long size) => (size + Block - 1) / Block * Block;

    private readonly record struct Header(string Name, long Size, char Type);

    private static Header ParseHeader(ReadOnlySpan<byte> h, long offset, bool first)
    {
        long stored;
        try
        {
            stored = ParseOctal(h.Slice(148, 8), offset, "checksum");
        }
        catch (TarFormatException) when (first)
        {
            throw new TarFormatException("not a tar archive: the first header has no valid checksum field");
        }
        long unsignedSum = 0, signedSum = 0;
        for (int i = 0; i < Block; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : h[i];
            unsignedSum += b;
            signedSum += (sbyte)b;
        }
        if (stored != unsignedSum && stored != signedSum)
        {
            throw new TarFormatException(first
                ? "not a tar archive: the first header's checksum does not match"
                : $"corrupt archive: bad header checksum at offset {offset} (stored {stored}, computed {unsignedSum})");
        }

        char type = (char)h[156];
        string name = CString(h[..100]);
        // POSIX ustar keeps a path prefix in bytes 345-500; GNU's "ustar  " header uses those bytes for other fields.
        if (h.Slice(257, 6).SequenceEqual("ustar\0"u8))
        {
            string prefix = CString(h.Slice(345, 155));
            if (prefix.Length > 0)
                name = prefix + "/" + name;
        }
        long size = ParseNumeric(h.Slice(124, 12), offset, "size");
        if (size is < 0 or > MaxMemberSize)
            throw new TarFormatException($"corrupt archive: size field out of range ({size}) in the header at offset {offset}");
        return new Header(name, size, type);
    }

    // Octal ASCII (optionally space/NUL padded), or GNU base-256: the first byte's high bit set, big-endian two's complement.
    private static long ParseNumeric(ReadOnlySpan<byte> field, long offset, string what)
    {
        if ((field[0] & 0x80) == 0)
            return ParseOctal(field, offset, what);
        if (field[0] == 0xFF)
            throw new TarFormatException($"corrupt archive: negative base-256 {what} field in the header at offset {offset}");
        long value = field[0] & 0x7F;
        for (int i = 1; i < field.Length; i++)
        {
            if (value > (long.MaxValue >> 8))
                throw new TarFormatException($"corrupt archive: {what} field out of range in the header at offset {offset}");
            value = (value << 8) | field[i];
        }
        return value;
    }

    private static long ParseOctal(ReadOnlySpan<byte> field, long offset, string what)
    {
        int i = 0;
        while (i < field.Length && field[i] == (byte)' ')
            i++;
        long value = 0;
        int digits = 0;
        for (; i < field.Length; i++)
        {
            byte b = field[i];
            if (b is 0 or (byte)' ')
                break;
            if (b is < (byte)'0' or > (byte)'7')
                throw new TarFormatException($"corrupt archive: {what} field is not octal in the header at offset {offset}");
            if (value > (long.MaxValue >> 3))
                throw new TarFormatException($"corrupt archive: {what} field out of range in the header at offset {offset}");
            value = (value << 3) | (uint)(b - '0');
            digits++;
        }
        for (; i < field.Length; i++)
        {
            if (field[i] is not (0 or (byte)' '))
                throw new TarFormatException($"corrupt archive: {what} field is malformed in the header at offset {offset}");
        }
        if (digits == 0 && what == "checksum")
            throw new TarFormatException($"corrupt archive: empty checksum field in the header at offset {offset}");
        return value;
    }

    // Pax records are "<length> <key>=<value>\n", length counting the whole record in bytes.
    private static void ApplyPax(byte[] data, long headerOffset, ref string? path, ref long? size)
    {
        var s = data.AsSpan();
        int at = 0;
        while (at < s.Length)
        {
            if (s[at] == 0)
                break; // Some writers pad the data with NULs.
            int space = s[at..].IndexOf((byte)' ');
            if (space <= 0 || space > 20)
                throw new TarFormatException($"corrupt archive: malformed pax record in the header at offset {headerOffset}");
            if (!long.TryParse(Encoding.ASCII.GetString(s.Slice(at, space)), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long recordLength)
                || recordLength <= space + 1 || recordLength > s.Length - at)
            {
                throw new TarFormatException($"corrupt archive: pax record length out of range in the header at offset {headerOffset}");
            }
            var record = s.Slice(at + space + 1, (int)recordLength - space - 1);
            if (record[^1] != (byte)'\n')
                throw new TarFormatException($"corrupt archive: pax record not terminated in the header at offset {headerOffset}");
            record = record[..^1];
            int eq = record.IndexOf((byte)'=');
            if (eq <= 0)
                throw new TarFormatException($"corrupt archive: pax record without '=' in the header at offset {headerOffset}");
            var key = record[..eq];
            var value = record[(eq + 1)..];
            if (key.SequenceEqual("path"u8))
                path = Encoding.UTF8.GetString(value);
            else if (key.SequenceEqual("size"u8))
            {
                if (!long.TryParse(Encoding.ASCII.GetString(value), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
                    || v > MaxMemberSize)
                {
                    throw new TarFormatException($"corrupt archive: pax size out of range in the header at offset {headerOffset}");
                }
                size = v;
            }
            at += (int)recordLength;
        }
    }

    private static async Task<byte[]> ReadMetadataAsync(Stream tar, long size, int limit, long pos, long? length, string what, CancellationToken cancellationToken)
    {
        if (size > limit)
            throw new TarFormatException($"corrupt archive: {what} at offset {pos - Block} claims {size} bytes (limit {limit})");
        if (length is long total && pos + Padded(size) > total)
            throw new TarFormatException($"truncated archive: {what} at offset {pos - Block} runs past the end of the archive ({total})");
        var data = new byte[Padded(size)];
        int got = await tar.ReadAtLeastAsync(data, data.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got < data.Length)
            throw new TarFormatException($"truncated archive: {what} at offset {pos - Block} ends after {got} of {data.Length} bytes");
        return data.AsSpan(0, (int)size).ToArray();
    }

    private static async Task SkipAsync(Stream tar, long size, long absoluteTarget, long pos, string name, CancellationToken cancellationToken)
    {
        long bytes = Padded(size);
        if (bytes == 0)
            return;
        if (tar.CanSeek)
        {
            // Padding past the end of the last member is tolerated; the data itself was checked against the length already.
            tar.Seek(Math.Min(absoluteTarget + bytes, tar.Length), SeekOrigin.Begin);
            return;
        }
        var scratch = ArrayPool<byte>.Shared.Rent(64 << 10);
        try
        {
            long left = bytes;
            while (left > 0)
            {
                int n = await tar.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, left)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    // Data cut short is truncation; only the trailing padding of the last member may be missing.
                    if (left > bytes - size)
                        throw new TarFormatException($"truncated archive: entry '{Shorten(name)}' at offset {pos - Block} ends {left} bytes early");
                    return;
                }
                left -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? bytes : bytes[..nul]);
    }

    private static string Printable(char c) => char.IsControl(c) ? $"\\x{(int)c:X2}" : c.ToString();

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "...";
}
