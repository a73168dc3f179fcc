namespace OssOrleans.TestKit;

/// <summary>
/// Compares strings in the order of their UTF-8 bytes (= Unicode code point order), which is the order
/// S3 lists keys in. Plain ordinal UTF-16 order differs only where a surrogate pair (code points from
/// U+10000) meets a BMP character from U+E000, so the first differing UTF-16 units are remapped.
/// </summary>
public sealed class Utf8Ordinal : IComparer<string>
{
    public static Utf8Ordinal Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }
        if (x is null)
        {
            return -1;
        }
        if (y is null)
        {
            return 1;
        }
        return CompareStrings(x, y);
    }

    public static int CompareStrings(string x, string y)
    {
        int common = x.AsSpan().CommonPrefixLength(y);
        if (common == x.Length || common == y.Length)
        {
            return x.Length.CompareTo(y.Length);
        }
        return Remap(x[common]).CompareTo(Remap(y[common]));
    }

    private static int Remap(char c) => c switch
    {
        >= '\uD800' and <= '\uDFFF' => c + 0x2000, // surrogates: code points >= U+10000, sort last
        >= '\uE000' => c - 0x800,
        _ => c,
    };
}
