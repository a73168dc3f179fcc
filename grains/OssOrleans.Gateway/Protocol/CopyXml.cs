namespace OssOrleans.Gateway.Protocol;

/// <summary>CopyObjectResult (CopyObject) and CopyPartResult (UploadPartCopy): the new ETag and time.</summary>
internal static class CopyXml
{
    public static Task WriteCopyObjectResultAsync(Stream output, string etag, DateTimeOffset lastModified, ObjectChecksum? checksum = null,
        CancellationToken cancellationToken = default) =>
        WriteAsync(output, "CopyObjectResult", etag, lastModified, checksum, cancellationToken);

    public static Task WriteCopyPartResultAsync(Stream output, string etag, DateTimeOffset lastModified, ObjectChecksum? checksum = null,
        CancellationToken cancellationToken = default) =>
        WriteAsync(output, "CopyPartResult", etag, lastModified, checksum, cancellationToken);

    private static async Task WriteAsync(Stream output, string root, string etag, DateTimeOffset lastModified, ObjectChecksum? checksum,
        CancellationToken cancellationToken)
    {
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, root).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "LastModified", S3Xml.FormatTime(lastModified)).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "ETag", S3Xml.QuoteETag(etag)).ConfigureAwait(false);
        await S3Xml.WriteChecksumAsync(writer, checksum).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }
}
