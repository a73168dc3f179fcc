using System.Globalization;
using System.Xml;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Reads a CompleteMultipartUpload request body: <c>&lt;CompleteMultipartUpload&gt;&lt;Part&gt;&lt;PartNumber/&gt;&lt;ETag/&gt;
/// [&lt;ChecksumCRC32/&gt;...]&lt;/Part&gt;...</c>. At most <see cref="MaxBytes"/> of body and <see cref="MaxParts"/>
/// parts, numbered 1 to 10000 in ascending order (else <c>InvalidPartOrder</c>); anything else malformed is
/// <c>MalformedXML</c>. Unknown elements inside a Part are skipped, so fields newer SDKs add do not break it.
/// </summary>
internal static class CompleteMultipartUploadReader
{
    /// <summary>10000 parts with quoted ETags and a checksum each take about 1.1 MB at most with generous whitespace; 1 MiB suits real clients.</summary>
    public const int MaxBytes = 1024 * 1024;

    public const int MaxParts = 10000;

    private const int MaxETagLength = 1024;

    public static async Task<IReadOnlyList<CompletedPart>> ReadAsync(Stream body, CancellationToken cancellationToken = default)
    {
        using var buffer = await S3XmlReading.ReadBodyAsync(body, MaxBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            using var reader = XmlReader.Create(buffer, S3XmlReading.Settings(MaxBytes));
            S3XmlReading.ReadRoot(reader, "CompleteMultipartUpload");
            var parts = new List<CompletedPart>();
            foreach (string element in S3XmlReading.Children(reader))
            {
                if (element != "Part" || parts.Count == MaxParts)
                    throw S3XmlReading.Malformed();
                parts.Add(ReadPart(reader));
            }
            if (parts.Count == 0)
                throw S3XmlReading.Malformed();
            for (int i = 1; i < parts.Count; i++)
            {
                if (parts[i].PartNumber <= parts[i - 1].PartNumber)
                    throw S3Errors.InvalidPartOrder().ToException();
            }
            return parts;
        }
        catch (XmlException)
        {
            throw S3XmlReading.Malformed();
        }
    }

    private static CompletedPart ReadPart(XmlReader reader)
    {
        int? number = null;
        string? etag = null;
        ObjectChecksum? checksum = null;
        foreach (string element in S3XmlReading.Children(reader))
        {
            switch (element)
            {
                case "PartNumber":
                    if (number is not null
                        || !int.TryParse(S3XmlReading.ReadText(reader, 16).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                        || n is < 1 or > MaxParts)
                    {
                        throw S3XmlReading.Malformed();
                    }
                    number = n;
                    break;
                case "ETag":
                    if (etag is not null)
                        throw S3XmlReading.Malformed();
                    etag = S3XmlReading.ReadText(reader, MaxETagLength).Trim();
                    break;
                case var name when name.StartsWith("Checksum", StringComparison.Ordinal) && S3Checksum.TryParseName(name["Checksum".Length..], out var algorithm):
                    string value = S3XmlReading.ReadText(reader, 64).Trim();
                    if (checksum is not null || !S3Checksum.TryParseValue(algorithm, value, out _))
                        throw S3XmlReading.Malformed();
                    checksum = new ObjectChecksum(algorithm, value);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (number is null || string.IsNullOrEmpty(etag))
            throw S3XmlReading.Malformed();
        return new CompletedPart(number.Value, etag) { Checksum = checksum };
    }
}
