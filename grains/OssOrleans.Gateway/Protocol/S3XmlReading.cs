using System.Buffers;
using System.Xml;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// How request documents are read: the body first, up to a fixed size (<c>MaxMessageLengthExceeded</c> past it),
/// then an <see cref="XmlReader"/> with DTDs prohibited, no resolver (no external entities), and the character
/// count capped. Any XML error is <c>MalformedXML</c>, as S3 answers it.
/// </summary>
internal static class S3XmlReading
{
    public static XmlReaderSettings Settings(int maxCharacters) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = maxCharacters,
        MaxCharactersFromEntities = 0,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        // Kept: a key of spaces is a whitespace-only text node, which IgnoreWhitespace would drop.
        IgnoreWhitespace = false,
        CheckCharacters = true,
        CloseInput = false,
    };

    /// <summary>Reads the whole body into memory, refusing it once it passes <paramref name="maxBytes"/>.</summary>
    public static async Task<MemoryStream> ReadBodyAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var output = new MemoryStream();
            int n;
            while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (output.Length + n > maxBytes)
                    throw S3Errors.MaxMessageLengthExceeded().ToException();
                output.Write(buffer, 0, n);
            }
            output.Position = 0;
            return output;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Moves to the root element and checks its name; the S3 namespace or none.</summary>
    public static void ReadRoot(XmlReader reader, string name)
    {
        reader.MoveToContent();
        if (reader.NodeType != XmlNodeType.Element || reader.LocalName != name || reader.NamespaceURI is not ("" or S3Xml.Namespace))
            throw Malformed();
    }

    /// <summary>
    /// The current element's child elements, one at a time with the reader on each; the caller consumes each one.
    /// Text other than whitespace between them is malformed. Ends after the parent's end tag.
    /// </summary>
    public static IEnumerable<string> Children(XmlReader reader)
    {
        if (reader.IsEmptyElement)
        {
            reader.Read();
            yield break;
        }
        int depth = reader.Depth;
        reader.Read();
        while (true)
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                    yield return reader.LocalName;
                    break;
                case XmlNodeType.EndElement when reader.Depth == depth:
                    reader.Read();
                    yield break;
                case XmlNodeType.Whitespace:
                case XmlNodeType.SignificantWhitespace:
                    reader.Read();
                    break;
                default:
                    throw Malformed();
            }
        }
    }

    /// <summary>The text of a simple element; nested elements are malformed.</summary>
    public static string ReadText(XmlReader reader, int maxLength)
    {
        string text = reader.ReadElementContentAsString();
        if (text.Length > maxLength)
            throw Malformed();
        return text;
    }

    public static S3ProtocolException Malformed() => S3Errors.MalformedXml().ToException();
}
