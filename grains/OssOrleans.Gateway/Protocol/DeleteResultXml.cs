namespace OssOrleans.Gateway.Protocol;

/// <summary>DeleteResult (DeleteObjects): a Deleted entry per key removed, unless the request asked for Quiet, and an Error entry per key that was not.</summary>
internal static class DeleteResultXml
{
    public static async Task WriteAsync(Stream output, bool quiet, IReadOnlyList<DeletedObject> deleted, IReadOnlyList<DeleteFailure> failures,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deleted);
        ArgumentNullException.ThrowIfNull(failures);
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "DeleteResult").ConfigureAwait(false);
        if (!quiet)
        {
            foreach (var entry in deleted)
            {
                await writer.WriteStartElementAsync(null, "Deleted", null).ConfigureAwait(false);
                await S3Xml.WriteElementAsync(writer, "Key", entry.Key).ConfigureAwait(false);
                if (entry.VersionId is not null)
                    await S3Xml.WriteElementAsync(writer, "VersionId", entry.VersionId).ConfigureAwait(false);
                if (entry.DeleteMarker)
                {
                    await S3Xml.WriteElementAsync(writer, "DeleteMarker", "true").ConfigureAwait(false);
                    if (entry.DeleteMarkerVersionId is not null)
                        await S3Xml.WriteElementAsync(writer, "DeleteMarkerVersionId", entry.DeleteMarkerVersionId).ConfigureAwait(false);
                }
                await writer.WriteEndElementAsync().ConfigureAwait(false);
            }
        }
        foreach (var failure in failures)
        {
            await writer.WriteStartElementAsync(null, "Error", null).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Key", failure.Key).ConfigureAwait(false);
            if (failure.VersionId is not null)
                await S3Xml.WriteElementAsync(writer, "VersionId", failure.VersionId).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Code", failure.Code).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Message", failure.Message).ConfigureAwait(false);
            await writer.WriteEndElementAsync().ConfigureAwait(false);
        }
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }
}
