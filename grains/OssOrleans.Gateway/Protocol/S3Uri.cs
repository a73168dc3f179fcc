using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Percent-encoding as S3 and SigV4 use it. Encoding: the unreserved characters (A-Z a-z 0-9 - _ . ~) as they are,
/// every other UTF-8 byte as %XX with upper-case hex. Decoding: strictly once, %XX only, the result valid UTF-8.
/// </summary>
/// <remarks>
/// The store's outgoing signer has its own encoder (<c>S3RawClient.UriEncode</c> in OssOrleans.Storage). This one is
/// separate because verifying needs what signing does not: decoding raw client input strictly, and keeping a client's
/// <c>%2F</c> apart from a literal <c>/</c> in the canonical path.
/// </remarks>
internal static class S3Uri
{
    private const string Hex = "0123456789ABCDEF";

    // Bounds the scratch space of one decode; callers bound their inputs far below this.
    private const int MaxDecodeChars = 64 * 1024;

    public static bool IsUnreserved(int c) =>
        (uint)(c - 'A') <= 'Z' - 'A' || (uint)(c - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c is '-' or '_' or '.' or '~';

    /// <summary>SigV4's URI encoding of <paramref name="value"/>'s UTF-8 bytes; <paramref name="keepSlash"/> leaves '/' as it is (object keys in paths).</summary>
    public static string Encode(string value, bool keepSlash)
    {
        if (IsAllUnreserved(value, keepSlash))
            return value;
        var sb = new StringBuilder(value.Length + 16);
        AppendEncoded(sb, value, keepSlash);
        return sb.ToString();
    }

    public static void AppendEncoded(StringBuilder sb, ReadOnlySpan<char> value, bool keepSlash)
    {
        Span<byte> utf8 = stackalloc byte[4];
        while (!value.IsEmpty)
        {
            char c = value[0];
            if (IsUnreserved(c) || (keepSlash && c == '/'))
            {
                sb.Append(c);
                value = value[1..];
                continue;
            }
            // A lone surrogate becomes U+FFFD, as Encoding.UTF8 would make it; callers pass validated strings.
            Rune.DecodeFromUtf16(value, out Rune rune, out int consumed);
            int n = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++)
                AppendPercent(sb, utf8[i]);
            value = value[consumed..];
        }
    }

    /// <summary>
    /// Percent-decodes <paramref name="raw"/> once. False when a '%' is not followed by two hex digits, when the
    /// bytes are not UTF-8, or when the raw text holds a control character (a client sends those encoded).
    /// <paramref name="plusIsSpace"/> reads '+' as a space: S3 does so in query strings and, unusually, in paths too
    /// ("/a+b" is the key "a b"), so every caller here passes true and a plus in a key must come as <c>%2B</c>.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> raw, bool plusIsSpace, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (raw.Length > MaxDecodeChars)
            return false;
        bool plain = true;
        foreach (char c in raw)
        {
            if (c < 0x20 || c == 0x7F)
                return false;
            if (c == '%' || (plusIsSpace && c == '+') || c > 0x7F)
                plain = false;
        }
        if (plain)
        {
            value = raw.ToString();
            return true;
        }

        byte[]? rented = null;
        int capacity = raw.Length * 3;
        Span<byte> bytes = capacity <= 1024 ? stackalloc byte[capacity] : (rented = ArrayPool<byte>.Shared.Rent(capacity));
        try
        {
            int n = 0;
            for (int i = 0; i < raw.Length; i++)
            {
                char c = raw[i];
                if (c == '%')
                {
                    if (i + 2 >= raw.Length || !TryHex(raw[i + 1], raw[i + 2], out byte b))
                        return false;
                    bytes[n++] = b;
                    i += 2;
                }
                else if (c == '+' && plusIsSpace)
                {
                    bytes[n++] = (byte)' ';
                }
                else if (c <= 0x7F)
                {
                    bytes[n++] = (byte)c;
                }
                else
                {
                    if (Rune.DecodeFromUtf16(raw[i..], out Rune rune, out int consumed) != OperationStatus.Done)
                        return false;
                    n += rune.EncodeToUtf8(bytes[n..]);
                    i += consumed - 1;
                }
            }
            if (!Utf8.IsValid(bytes[..n]))
                return false;
            value = Encoding.UTF8.GetString(bytes[..n]);
            return true;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Appends the SigV4 canonical URI of a path as the client sent it: every %XX decoded and the byte encoded again
    /// (so <c>%7e</c> and <c>~</c> both become <c>~</c>, and <c>$</c> and <c>%24</c> both <c>%24</c>), a literal '/'
    /// kept and an encoded one (<c>%2F</c>) left encoded, which is how a client that sent it also signed it. A literal
    /// '+' is a space, as S3 reads paths (<see cref="TryDecode"/>), so it canonicalizes as <c>%20</c>; SDKs send a
    /// plus as <c>%2B</c>. S3 does not normalise the path further: no dot-segment removal, no merging of slashes.
    /// False when the path is not well formed (no leading '/', a bad escape, a control character).
    /// </summary>
    public static bool TryAppendCanonicalPath(StringBuilder sb, ReadOnlySpan<char> rawPath)
    {
        if (rawPath.IsEmpty || rawPath[0] != '/')
            return false;
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < rawPath.Length; i++)
        {
            char c = rawPath[i];
            if (c < 0x20 || c == 0x7F)
                return false;
            if (c == '%')
            {
                if (i + 2 >= rawPath.Length || !TryHex(rawPath[i + 1], rawPath[i + 2], out byte b))
                    return false;
                if (IsUnreserved(b))
                    sb.Append((char)b);
                else
                    AppendPercent(sb, b);
                i += 2;
            }
            else if (IsUnreserved(c) || c == '/')
            {
                sb.Append(c);
            }
            else if (c == '+')
            {
                sb.Append("%20");
            }
            else if (c <= 0x7F)
            {
                AppendPercent(sb, (byte)c);
            }
            else
            {
                if (Rune.DecodeFromUtf16(rawPath[i..], out Rune rune, out int consumed) != OperationStatus.Done)
                    return false;
                int n = rune.EncodeToUtf8(utf8);
                for (int k = 0; k < n; k++)
                    AppendPercent(sb, utf8[k]);
                i += consumed - 1;
            }
        }
        return true;
    }

    private static bool IsAllUnreserved(string value, bool keepSlash)
    {
        foreach (char c in value)
        {
            if (!IsUnreserved(c) && !(keepSlash && c == '/'))
                return false;
        }
        return true;
    }

    private static void AppendPercent(StringBuilder sb, byte b) => sb.Append('%').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);

    private static bool TryHex(char hi, char lo, out byte value)
    {
        int h = HexValue(hi), l = HexValue(lo);
        value = (byte)((h << 4) | l);
        return (h | l) >= 0;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
