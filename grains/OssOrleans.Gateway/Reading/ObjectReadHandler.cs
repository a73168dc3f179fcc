using System.Globalization;
using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.Gateway.Reading;

/// <summary>
/// GetObject and HeadObject, served from the cluster: the version's metadata from its object grain, conditions and a
/// range judged against it, then the bytes of that version from its shards (<see cref="ObjectStreamer"/>), never buffered
/// whole. A failure after the answer has started cuts the connection, so a client sees a short body, never wrong bytes.
/// </summary>
internal sealed class ObjectReadHandler(IGrainFactory grains, ObjectStreamer streamer, BucketHandler buckets)
{
    public const string DefaultContentType = "binary/octet-stream";

    public async Task GetAsync(S3Exchange exchange, bool head)
    {
        var info = await InfoAsync(exchange).ConfigureAwait(false);
        var response = exchange.Response;
        SetVersionHeaders(response, info);

        switch (S3Preconditions.Evaluate(exchange.Request.Headers, info.ETag, info.LastModified, isGetOrHead: true))
        {
            case PreconditionResult.NotModified:
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            case PreconditionResult.PreconditionFailed:
                throw S3Errors.PreconditionFailed().ToException();
        }

        if (!ResponseOverrides.TryRead(exchange.Head.Query, authenticated: true, out var overrides, out var overrideError))
            throw overrideError.ToException();

        var range = RangeRequest.Evaluate(exchange.Request.Headers.Range, info.Size);
        long start = 0, length = info.Size;
        switch (range.Outcome)
        {
            case RangeOutcome.Unsatisfiable:
                exchange.Http.Items[S3Responses.ObjectSizeItem] = info.Size;
                throw S3Errors.InvalidRange().ToException();
            case RangeOutcome.Partial:
                (start, length) = (range.Range.Start, range.Range.Length);
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = range.Range.ContentRange(info.Size);
                break;
            default:
                response.StatusCode = StatusCodes.Status200OK;
                break;
        }
        response.ContentLength = length;
        response.ContentType = info.ContentType ?? DefaultContentType;
        foreach (var (name, value) in overrides)
            response.Headers[name] = value;
        if (head || length == 0)
            return;

        exchange.Bytes = length;
        await streamer.CopyAsync(info, start, length, response.Body, exchange.Aborted).ConfigureAwait(false);
    }

    /// <summary>The current version's metadata (cached by the object grain), or the S3 error for a missing object or bucket.</summary>
    public async Task<ObjectInfo> InfoAsync(S3Exchange exchange) => await InfoAsync(exchange, exchange.Bucket, exchange.Key).ConfigureAwait(false);

    public async Task<ObjectInfo> InfoAsync(S3Exchange exchange, string bucket, string key)
    {
        ObjectUri uri;
        try
        {
            uri = new ObjectUri(bucket, key);
        }
        catch (ArgumentException)
        {
            throw S3Errors.InvalidArgument("This gateway does not serve keys that start with '/' or hold a NUL.").ToException();
        }
        try
        {
            return await grains.GetGrain<IObjectGrain>(uri.ToGrainKey()).GetInfoAsync().WaitAsync(exchange.Aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OssObjectNotFoundException or ArgumentException)
        {
            // A key the origin cannot hold (the local store has no "dir/" objects) is an object that is not there.
            throw (await buckets.MissingObjectErrorAsync(exchange, bucket).ConfigureAwait(false)).ToException();
        }
    }

    public static void SetVersionHeaders(HttpResponse response, ObjectInfo info)
    {
        response.Headers.ETag = S3Xml.QuoteETag(info.ETag);
        response.Headers.LastModified = S3Responses.HttpDate(info.LastModified);
        response.Headers.AcceptRanges = "bytes";
        if (info.Crc64 is { } crc)
            response.Headers["x-oss-hash-crc64ecma"] = crc.ToString(CultureInfo.InvariantCulture);
    }
}
