using Microsoft.Extensions.Primitives;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// A Range header read as S3 reads it, against an object of known size. One range only: <c>bytes=a-b</c> (b past the
/// end is clamped to the end), <c>bytes=a-</c>, <c>bytes=-n</c> (the last n bytes; all of them when n is the size or
/// more). A first byte at or past the end, an empty object, or <c>bytes=-0</c> cannot be satisfied (416). Anything
/// else (another unit, a = b + 1, text, several ranges) is ignored and the whole object is answered with 200, which
/// is what S3 does and what RFC 9110 allows.
/// </summary>
internal readonly record struct RangeRequest(RangeOutcome Outcome, ByteRange Range)
{
    private const int MaxHeaderLength = 256;

    public static RangeRequest Whole => new(RangeOutcome.Whole, default);

    public static RangeRequest Evaluate(StringValues header, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (header.Count != 1)
            return Whole;
        return Evaluate(header[0], size);
    }

    public static RangeRequest Evaluate(string? header, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (string.IsNullOrWhiteSpace(header) || header.Length > MaxHeaderLength)
            return Whole;
        var text = header.AsSpan().Trim();
        if (!text.StartsWith("bytes", StringComparison.OrdinalIgnoreCase))
            return Whole;
        text = text[5..].TrimStart();
        if (text.IsEmpty || text[0] != '=')
            return Whole;
        text = text[1..].Trim();
        if (text.Contains(','))
            return Whole;
        int dash = text.IndexOf('-');
        if (dash < 0)
            return Whole;
        var first = text[..dash].Trim();
        var last = text[(dash + 1)..].Trim();

        if (first.IsEmpty)
        {
            if (!TryNumber(last, out long suffix))
                return Whole;
            if (suffix == 0 || size == 0)
                return Unsatisfiable;
            long length = Math.Min(suffix, size);
            return new RangeRequest(RangeOutcome.Partial, new ByteRange(size - length, length));
        }
        if (!TryNumber(first, out long start))
            return Whole;
        long end;
        if (last.IsEmpty)
        {
            end = long.MaxValue;
        }
        else if (!TryNumber(last, out end) || end < start)
        {
            return Whole;
        }
        if (start >= size)
            return Unsatisfiable;
        end = Math.Min(end, size - 1);
        return new RangeRequest(RangeOutcome.Partial, new ByteRange(start, end - start + 1));
    }

    private static RangeRequest Unsatisfiable => new(RangeOutcome.Unsatisfiable, default);

    // Digits only; values past a long saturate (they are past any object's end).
    private static bool TryNumber(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty)
            return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
                return false;
            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + (c - '0');
        }
        return true;
    }
}
