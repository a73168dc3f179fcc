using System.Xml;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// ListBucketResult for ListObjectsV2 (<c>list-type=2</c>: continuation-token, start-after, KeyCount) and for
/// ListObjects v1 (marker, NextMarker). Under <c>encoding-type=url</c> the names S3 encodes are encoded here too:
/// Key, Prefix, Delimiter, StartAfter, Marker, NextMarker and each CommonPrefixes Prefix; tokens are not.
/// </summary>
internal static class ListObjectsXml
{
    public static async Task WriteV2Async(Stream output, ListObjectsResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "ListBucketResult").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Name", result.Bucket).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Prefix", Name(result, result.Prefix)).ConfigureAwait(false);
        if (result.ContinuationToken is not null)
            await S3Xml.WriteElementAsync(writer, "ContinuationToken", result.ContinuationToken).ConfigureAwait(false);
        if (result.IsTruncated && result.NextContinuationToken is not null)
            await S3Xml.WriteElementAsync(writer, "NextContinuationToken", result.NextContinuationToken).ConfigureAwait(false);
        if (result.StartAfter is not null)
            await S3Xml.WriteElementAsync(writer, "StartAfter", Name(result, result.StartAfter)).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "KeyCount", result.Objects.Count + result.CommonPrefixes.Count).ConfigureAwait(false);
        await WriteCommonHeadAsync(writer, result).ConfigureAwait(false);
        await WriteEntriesAsync(writer, result, cancellationToken).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }

    public static async Task WriteV1Async(Stream output, ListObjectsResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "ListBucketResult").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Name", result.Bucket).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Prefix", Name(result, result.Prefix)).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Marker", Name(result, result.Marker ?? "")).ConfigureAwait(false);
        if (result.IsTruncated && !string.IsNullOrEmpty(result.Delimiter) && (result.NextMarker ?? LastName(result)) is { } next)
            await S3Xml.WriteElementAsync(writer, "NextMarker", Name(result, next)).ConfigureAwait(false);
        await WriteCommonHeadAsync(writer, result).ConfigureAwait(false);
        await WriteEntriesAsync(writer, result, cancellationToken).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteCommonHeadAsync(XmlWriter writer, ListObjectsResult result)
    {
        await S3Xml.WriteElementAsync(writer, "MaxKeys", result.MaxKeys).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(result.Delimiter))
            await S3Xml.WriteElementAsync(writer, "Delimiter", Name(result, result.Delimiter)).ConfigureAwait(false);
        if (result.UrlEncoded)
            await S3Xml.WriteElementAsync(writer, "EncodingType", "url").ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "IsTruncated", S3Xml.FormatBool(result.IsTruncated)).ConfigureAwait(false);
    }

    private static async Task WriteEntriesAsync(XmlWriter writer, ListObjectsResult result, CancellationToken cancellationToken)
    {
        foreach (var entry in result.Objects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writer.WriteStartElementAsync(null, "Contents", null).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Key", Name(result, entry.Key)).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "LastModified", S3Xml.FormatTime(entry.LastModified)).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "ETag", S3Xml.QuoteETag(entry.ETag)).ConfigureAwait(false);
            if (entry.ChecksumAlgorithm is { } algorithm)
                await S3Xml.WriteElementAsync(writer, "ChecksumAlgorithm", S3Checksum.Name(algorithm)).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Size", entry.Size).ConfigureAwait(false);
            if (entry.Owner is not null)
                await S3Xml.WriteOwnerAsync(writer, "Owner", entry.Owner).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "StorageClass", entry.StorageClass).ConfigureAwait(false);
            await writer.WriteEndElementAsync().ConfigureAwait(false);
        }
        foreach (string prefix in result.CommonPrefixes)
        {
            await writer.WriteStartElementAsync(null, "CommonPrefixes", null).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Prefix", Name(result, prefix)).ConfigureAwait(false);
            await writer.WriteEndElementAsync().ConfigureAwait(false);
        }
    }

    private static string Name(ListObjectsResult result, string value) => result.UrlEncoded ? S3Xml.UrlEncode(value) : value;

    private static string? LastName(ListObjectsResult result)
    {
        string? key = result.Objects.Count > 0 ? result.Objects[^1].Key : null;
        string? prefix = result.CommonPrefixes.Count > 0 ? result.CommonPrefixes[^1] : null;
        if (key is null || prefix is null)
            return key ?? prefix;
        // Listing order is UTF-8 byte order, which UTF-16 ordinal order is not beyond the BMP.
        return System.Text.Encoding.UTF8.GetBytes(key).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(prefix)) >= 0 ? key : prefix;
    }
}
