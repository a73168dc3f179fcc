using System.Globalization;
using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.Gateway;

/// <summary>How answers are written: the headers every answer carries, XML documents, errors (no body on HEAD).</summary>
internal static class S3Responses
{
    public const string XmlContentType = "application/xml";

    public static async Task ErrorAsync(S3Exchange exchange, S3Error error, string hostId)
    {
        var response = exchange.Response;
        response.StatusCode = error.StatusCode;
        if (error.Code == "InvalidRange" && exchange.Http.Items.TryGetValue(ObjectSizeItem, out object? size) && size is long length)
            response.Headers.ContentRange = ByteRange.UnsatisfiedContentRange(length);
        if (error.StatusCode == StatusCodes.Status503ServiceUnavailable)
            response.Headers.RetryAfter = "1";
        if (exchange.IsHead)
        {
            response.ContentLength = 0;
            return;
        }
        response.ContentType = XmlContentType;
        await ErrorXml.WriteAsync(response.Body, error, exchange.Target is null ? null : exchange.Resource, exchange.RequestId, hostId, exchange.Aborted)
            .ConfigureAwait(false);
    }

    /// <summary>Where the size of the object a Range was judged against is kept, for a 416's Content-Range.</summary>
    public const string ObjectSizeItem = "oss-object-size";

    public static void Xml(S3Exchange exchange, int status = StatusCodes.Status200OK)
    {
        exchange.Response.StatusCode = status;
        exchange.Response.ContentType = XmlContentType;
    }

    public static void Empty(S3Exchange exchange, int status)
    {
        exchange.Response.StatusCode = status;
        if (status != StatusCodes.Status204NoContent)
            exchange.Response.ContentLength = 0;
    }

    public static string HttpDate(DateTimeOffset time) => time.UtcDateTime.ToString("r", CultureInfo.InvariantCulture);

    public static void ChecksumHeader(HttpResponse response, S3BodyStream body)
    {
        if (body.ChecksumAlgorithm is { } algorithm && body.ChecksumBase64 is { } value)
            response.Headers[S3Checksum.HeaderName(algorithm)] = value;
    }
}
