using System.Xml;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Reads a DeleteObjects request body: <c>&lt;Delete&gt;[&lt;Quiet&gt;true&lt;/Quiet&gt;]&lt;Object&gt;&lt;Key/&gt;
/// [&lt;VersionId/&gt;]&lt;/Object&gt;...</c>, at most <see cref="MaxBytes"/> and 1 to <see cref="MaxObjects"/> objects
/// (S3's limit); anything else is <c>MalformedXML</c>. Keys are returned as sent, whitespace included: each is
/// validated by the caller, which answers a bad one with an Error entry rather than failing the batch.
/// </summary>
internal static class DeleteObjectsReader
{
    /// <summary>1000 keys of the largest size (1024 bytes, some needing character references) fit in 2 MiB.</summary>
    public const int MaxBytes = 2 * 1024 * 1024;

    public const int MaxObjects = 1000;

    // A key is at most 1024 UTF-8 bytes, so at most 1024 characters.
    private const int MaxKeyLength = 1024;

    public static async Task<DeleteObjectsRequest> ReadAsync(Stream body, CancellationToken cancellationToken = default)
    {
        using var buffer = await S3XmlReading.ReadBodyAsync(body, MaxBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            using var reader = XmlReader.Create(buffer, S3XmlReading.Settings(MaxBytes));
            S3XmlReading.ReadRoot(reader, "Delete");
            bool? quiet = null;
            var objects = new List<ObjectIdentifier>();
            foreach (string element in S3XmlReading.Children(reader))
            {
                switch (element)
                {
                    case "Quiet" when quiet is null:
                        quiet = S3XmlReading.ReadText(reader, 8).Trim() switch
                        {
                            "true" or "True" or "TRUE" => true,
                            "false" or "False" or "FALSE" => false,
                            _ => throw S3XmlReading.Malformed(),
                        };
                        break;
                    case "Object" when objects.Count < MaxObjects:
                        objects.Add(ReadObject(reader));
                        break;
                    default:
                        throw S3XmlReading.Malformed();
                }
            }
            if (objects.Count == 0)
                throw S3XmlReading.Malformed();
            return new DeleteObjectsRequest(quiet ?? false, objects);
        }
        catch (XmlException)
        {
            throw S3XmlReading.Malformed();
        }
    }

    private static ObjectIdentifier ReadObject(XmlReader reader)
    {
        string? key = null, versionId = null;
        foreach (string element in S3XmlReading.Children(reader))
        {
            switch (element)
            {
                case "Key" when key is null:
                    key = S3XmlReading.ReadText(reader, MaxKeyLength);
                    break;
                case "VersionId" when versionId is null:
                    versionId = S3XmlReading.ReadText(reader, MaxKeyLength);
                    break;
                case "Key" or "VersionId":
                    throw S3XmlReading.Malformed();
                default:
                    // Newer conditional fields (ETag, LastModifiedTime, Size) are not acted on.
                    reader.Skip();
                    break;
            }
        }
        return new ObjectIdentifier(key ?? throw S3XmlReading.Malformed(), versionId);
    }
}
