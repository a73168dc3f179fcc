namespace OssOrleans.Gateway.Protocol;

/// <summary>The answers of the multipart upload operations.</summary>
internal static class MultipartXml
{
    public static async Task WriteInitiateAsync(Stream output, string bucket, string key, string uploadId, CancellationToken cancellationToken = default)
    {
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "InitiateMultipartUploadResult").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Bucket", bucket).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Key", key).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "UploadId", uploadId).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="location">The object's URL as the client addressed it (S3 writes one; clients rarely read it).</param>
    public static async Task WriteCompleteAsync(Stream output, string location, string bucket, string key, string etag, ObjectChecksum? checksum = null,
        CancellationToken cancellationToken = default)
    {
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "CompleteMultipartUploadResult").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Location", location).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Bucket", bucket).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Key", key).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "ETag", S3Xml.QuoteETag(etag)).ConfigureAwait(false);
        await S3Xml.WriteChecksumAsync(writer, checksum).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }

    public static async Task WriteListPartsAsync(Stream output, ListPartsResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "ListPartsResult").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Bucket", result.Bucket).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Key", result.Key).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "UploadId", result.UploadId).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "PartNumberMarker", result.PartNumberMarker).ConfigureAwait(false);
        if (result.IsTruncated && (result.NextPartNumberMarker ?? (result.Parts.Count > 0 ? result.Parts[^1].PartNumber : null)) is { } next)
            await S3Xml.WriteElementAsync(writer, "NextPartNumberMarker", next).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "MaxParts", result.MaxParts).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "IsTruncated", S3Xml.FormatBool(result.IsTruncated)).ConfigureAwait(false);
        if (result.ChecksumAlgorithm is { } algorithm)
            await S3Xml.WriteElementAsync(writer, "ChecksumAlgorithm", S3Checksum.Name(algorithm)).ConfigureAwait(false);
        foreach (var part in result.Parts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writer.WriteStartElementAsync(null, "Part", null).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "PartNumber", part.PartNumber).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "LastModified", S3Xml.FormatTime(part.LastModified)).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "ETag", S3Xml.QuoteETag(part.ETag)).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Size", part.Size).ConfigureAwait(false);
            await S3Xml.WriteChecksumAsync(writer, part.Checksum).ConfigureAwait(false);
            await writer.WriteEndElementAsync().ConfigureAwait(false);
        }
        if (result.Initiator is not null)
            await S3Xml.WriteOwnerAsync(writer, "Initiator", result.Initiator).ConfigureAwait(false);
        if (result.Owner is not null)
            await S3Xml.WriteOwnerAsync(writer, "Owner", result.Owner).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "StorageClass", result.StorageClass).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }

    public static async Task WriteListUploadsAsync(Stream output, ListUploadsResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        string Name(string value) => result.UrlEncoded ? S3Xml.UrlEncode(value) : value;
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "ListMultipartUploadsResult").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Bucket", result.Bucket).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "KeyMarker", Name(result.KeyMarker)).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "UploadIdMarker", result.UploadIdMarker).ConfigureAwait(false);
        if (result.NextKeyMarker is not null)
            await S3Xml.WriteElementAsync(writer, "NextKeyMarker", Name(result.NextKeyMarker)).ConfigureAwait(false);
        if (result.NextUploadIdMarker is not null)
            await S3Xml.WriteElementAsync(writer, "NextUploadIdMarker", result.NextUploadIdMarker).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(result.Delimiter))
            await S3Xml.WriteElementAsync(writer, "Delimiter", Name(result.Delimiter)).ConfigureAwait(false);
        if (result.Prefix is not null)
            await S3Xml.WriteElementAsync(writer, "Prefix", Name(result.Prefix)).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "MaxUploads", result.MaxUploads).ConfigureAwait(false);
        if (result.UrlEncoded)
            await S3Xml.WriteElementAsync(writer, "EncodingType", "url").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "IsTruncated", S3Xml.FormatBool(result.IsTruncated)).ConfigureAwait(false);
        foreach (var upload in result.Uploads)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writer.WriteStartElementAsync(null, "Upload", null).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Key", Name(upload.Key)).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "UploadId", upload.UploadId).ConfigureAwait(false);
            if (upload.Initiator is not null)
                await S3Xml.WriteOwnerAsync(writer, "Initiator", upload.Initiator).ConfigureAwait(false);
            if (upload.Owner is not null)
                await S3Xml.WriteOwnerAsync(writer, "Owner", upload.Owner).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "StorageClass", upload.StorageClass).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Initiated", S3Xml.FormatTime(upload.Initiated)).ConfigureAwait(false);
            await writer.WriteEndElementAsync().ConfigureAwait(false);
        }
        foreach (string prefix in result.CommonPrefixes)
        {
            await writer.WriteStartElementAsync(null, "CommonPrefixes", null).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Prefix", Name(prefix)).ConfigureAwait(false);
            await writer.WriteEndElementAsync().ConfigureAwait(false);
        }
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }
}
