namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// S3's error document: <c>&lt;Error&gt;&lt;Code/&gt;&lt;Message/&gt;</c>, the error's details,
/// <c>&lt;Resource/&gt;</c>, <c>&lt;RequestId/&gt;</c>, <c>&lt;HostId/&gt;</c>. HEAD answers carry no body, so the
/// caller writes this only for other methods.
/// </summary>
internal static class ErrorXml
{
    public static async Task WriteAsync(Stream output, S3Error error, string? resource, string requestId, string hostId,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        await using var writer = S3Xml.CreateWriter(output);
        await writer.WriteStartDocumentAsync().ConfigureAwait(false);
        await writer.WriteStartElementAsync(null, "Error", null).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Code", error.Code).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "Message", error.Message).ConfigureAwait(false);
        foreach (var (name, value) in error.Details)
        {
            // Detail names are the gateway's own (HeadersNotSigned, StringToSign...); anything else is left out.
            if (name.Length > 0 && char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit))
                await S3Xml.WriteElementAsync(writer, name, value).ConfigureAwait(false);
        }
        if (resource is not null)
            await S3Xml.WriteElementAsync(writer, "Resource", resource).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "RequestId", requestId).ConfigureAwait(false);
        await S3Xml.WriteElementAsync(writer, "HostId", hostId).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }
}
