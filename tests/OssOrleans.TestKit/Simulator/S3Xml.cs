using System.Globalization;
using System.Text;

namespace OssOrleans.TestKit;

/// <summary>
/// Writes S3 XML documents (namespace http://s3.amazonaws.com/doc/2006-03-01/). A plain string builder
/// rather than XmlWriter, because list pages of 1000 keys are on the hot path of listing benchmarks.
/// </summary>
internal sealed class S3Xml
{
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    // Large documents (list pages) reuse one builder per thread: a 1000-key page is about 200,000 characters, and a new
    // builder plus its string made two large-object-heap arrays per page, whose churn cost the benchmark process most of
    // its gen-2 collections while listing.
    private const int ReusedCapacity = 32 * 1024;

    [ThreadStatic]
    private static StringBuilder? t_reused;

    private readonly StringBuilder _sb;

    private S3Xml(int capacity) => _sb = new StringBuilder(capacity);

    private S3Xml(StringBuilder sb) => _sb = sb;

    /// <summary>A document whose root element carries the S3 namespace.</summary>
    public static byte[] Build(string root, Action<S3Xml> body, int capacity = 512)
    {
        bool reuse = capacity >= ReusedCapacity;
        var cached = reuse ? t_reused : null;
        t_reused = null;
        var w = reuse ? new S3Xml(cached?.Clear() ?? new StringBuilder(capacity)) : new S3Xml(capacity);
        w._sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<").Append(root).Append(" xmlns=\"").Append(Namespace).Append("\">");
        body(w);
        w.End(root);
        if (!reuse)
        {
            return Encoding.UTF8.GetBytes(w._sb.ToString());
        }
        byte[] bytes = ToUtf8(w._sb);
        t_reused = w._sb;
        return bytes;
    }

    // The builder's chunks straight to UTF-8, without the intermediate string (one encoder, so a surrogate pair split
    // across two chunks still encodes as one character).
    private static byte[] ToUtf8(StringBuilder sb)
    {
        var encoder = Encoding.UTF8.GetEncoder();
        int length = 0;
        foreach (var chunk in sb.GetChunks())
        {
            length += encoder.GetByteCount(chunk.Span, flush: false);
        }
        length += encoder.GetByteCount(ReadOnlySpan<char>.Empty, flush: true);
        encoder.Reset();
        var bytes = new byte[length];
        int at = 0;
        foreach (var chunk in sb.GetChunks())
        {
            at += encoder.GetBytes(chunk.Span, bytes.AsSpan(at), flush: false);
        }
        encoder.GetBytes(ReadOnlySpan<char>.Empty, bytes.AsSpan(at), flush: true);
        return bytes;
    }

    /// <summary>An S3 error document (no namespace, as S3 sends them).</summary>
    public static byte[] Error(string code, string message, string? resource, string requestId,
        IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        var w = new S3Xml(256);
        w._sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        w.Element("Code", code);
        w.Element("Message", message);
        if (extra is not null)
        {
            foreach (var (k, v) in extra)
            {
                w.Element(k, v);
            }
        }
        if (resource is not null)
        {
            w.Element("Resource", resource);
        }
        w.Element("RequestId", requestId);
        w.End("Error");
        return Encoding.UTF8.GetBytes(w._sb.ToString());
    }

    public void Start(string name) => _sb.Append('<').Append(name).Append('>');

    public void End(string name) => _sb.Append("</").Append(name).Append('>');

    public void Element(string name, string value)
    {
        Start(name);
        Escape(value);
        End(name);
    }

    public void Element(string name, long value)
    {
        Start(name);
        _sb.Append(value.ToString(CultureInfo.InvariantCulture));
        End(name);
    }

    public void Element(string name, bool value)
    {
        Start(name);
        _sb.Append(value ? "true" : "false");
        End(name);
    }

    private void Escape(string value)
    {
        int start = 0;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            string? entity = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                _ => null,
            };
            if (entity is null && c < 0x20 && c is not ('\t' or '\n'))
            {
                // Not allowed in XML 1.0 even as a reference; written as a reference anyway (clients that
                // need such keys ask for encoding-type=url). \r must be a reference to survive parsing.
                entity = "&#x" + ((int)c).ToString("X", CultureInfo.InvariantCulture) + ";";
            }
            if (entity is not null)
            {
                _sb.Append(value, start, i - start).Append(entity);
                start = i + 1;
            }
        }
        _sb.Append(value, start, value.Length - start);
    }

    public static string IsoTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>URL-encodes as S3 does for encoding-type=url: UTF-8 bytes, unreserved characters and '/' kept.</summary>
    public static string UrlEncode(string value)
    {
        var sb = new StringBuilder(value.Length + 8);
        Span<byte> buf = stackalloc byte[4];
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.' or '~' or '/')
            {
                sb.Append(c);
                continue;
            }
            int len;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                len = Encoding.UTF8.GetBytes(value.AsSpan(i, 2), buf);
                i++;
            }
            else
            {
                len = Encoding.UTF8.GetBytes(value.AsSpan(i, 1), buf);
            }
            for (int b = 0; b < len; b++)
            {
                sb.Append('%').Append(buf[b].ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}
