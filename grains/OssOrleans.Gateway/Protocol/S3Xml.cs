using System.Globalization;
using System.Text;
using System.Xml;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// What every S3 XML document shares: the namespace, the writer settings, and how times, ETags and url-encoded
/// names are written. Writers stream through an async <see cref="XmlWriter"/> over the response body: a
/// 1000-key listing (about 220 KB) goes out in writes of at most the writer's 64 KiB buffer, never as one string
/// (S3XmlWriterTests.ListObjectsXml_ThousandKeys_StreamsInPieces measures it).
/// </summary>
/// <remarks>
/// Keys may hold characters XML 1.0 cannot carry (U+0001, U+FFFE...). Asked for <c>encoding-type=url</c>, they are
/// percent-encoded like everything else; otherwise they are written as character references (<c>&amp;#x1;</c>), which
/// is what S3 itself sends: the document is then not strictly well-formed, lenient parsers read it and strict ones
/// fail, and the cure is the one AWS gives, asking for url encoding (boto3, the AWS CLI and rclone always do). A
/// carriage return is always written as <c>&amp;#xD;</c>, so a parser's end-of-line normalisation cannot turn it into
/// a line feed.
/// </remarks>
internal static class S3Xml
{
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    public static XmlWriterSettings WriterSettings { get; } = new()
    {
        Async = true,
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        Indent = false,
        CloseOutput = false,
        // Off so that characters XML 1.0 refuses become character references instead of an exception mid-listing.
        CheckCharacters = false,
        NewLineHandling = NewLineHandling.Entitize,
    };

    public static XmlWriter CreateWriter(Stream output) => XmlWriter.Create(output, WriterSettings);

    /// <summary>ISO-8601 in UTC with milliseconds, as S3 writes LastModified: 2009-10-12T17:50:30.000Z.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>An ETag as S3 writes it: in double quotes (added when missing).</summary>
    public static string QuoteETag(string etag) =>
        etag.Length >= 2 && etag[0] == '"' && etag[^1] == '"' ? etag : "\"" + etag + "\"";

    /// <summary>A name as written under <c>encoding-type=url</c>: SigV4-style percent-encoding, '/' kept.</summary>
    public static string UrlEncode(string value) => S3Uri.Encode(value, keepSlash: true);

    public static string FormatBool(bool value) => value ? "true" : "false";

    public static Task WriteElementAsync(XmlWriter writer, string name, string value) =>
        writer.WriteElementStringAsync(null, name, null, value);

    public static Task WriteElementAsync(XmlWriter writer, string name, long value) =>
        writer.WriteElementStringAsync(null, name, null, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Starts a document whose root is in the S3 namespace.</summary>
    public static async Task StartAsync(XmlWriter writer, string root)
    {
        await writer.WriteStartDocumentAsync().ConfigureAwait(false);
        await writer.WriteStartElementAsync(null, root, Namespace).ConfigureAwait(false);
    }

    public static async Task EndAsync(XmlWriter writer, CancellationToken cancellationToken)
    {
        await writer.WriteEndElementAsync().ConfigureAwait(false);
        await writer.WriteEndDocumentAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await writer.FlushAsync().ConfigureAwait(false);
    }

    public static async Task WriteOwnerAsync(XmlWriter writer, string element, S3Owner owner)
    {
        await writer.WriteStartElementAsync(null, element, null).ConfigureAwait(false);
        await WriteElementAsync(writer, "ID", owner.Id).ConfigureAwait(false);
        if (owner.DisplayName is not null)
            await WriteElementAsync(writer, "DisplayName", owner.DisplayName).ConfigureAwait(false);
        await writer.WriteEndElementAsync().ConfigureAwait(false);
    }

    /// <summary>ChecksumCRC32 and the like, as S3 adds them to results that carry a checksum.</summary>
    public static async Task WriteChecksumAsync(XmlWriter writer, ObjectChecksum? checksum)
    {
        if (checksum is { } c)
            await WriteElementAsync(writer, "Checksum" + S3Checksum.Name(c.Algorithm), c.Base64).ConfigureAwait(false);
    }
}
