using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Gateway.Reading;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Security;
using OssOrleans.Storage;

namespace OssOrleans.Gateway.Writing;

/// <summary>PutObject, CopyObject, DeleteObject and DeleteObjects.</summary>
internal sealed class ObjectWriteHandler(
    ObjectWriter writer,
    WriteConditions conditions,
    ObjectReadHandler reads,
    ObjectStreamer streamer,
    WriteNotices notices,
    BodyReader bodies,
    IObjectStore origin,
    OriginGate gate,
    IOptions<GatewayOptions> options)
{
    // Copies read their source through the cluster into the writer through a pipe of this much.
    private const int CopyPipeBytes = 4 << 20;

    // Keys one DeleteObjects request deletes at once.
    private const int DeleteConcurrency = 8;

    public async Task PutAsync(S3Exchange exchange)
    {
        var headers = exchange.Request.Headers;
        WriteHeaders.RefuseUnsupported(headers);
        bool createOnly = WriteHeaders.CreateOnly(headers, out bool oss);
        using var body = bodies.Open(exchange, options.Value.MaxObjectSize);
        var write = new WriteRequest(new ObjectUri(exchange.Bucket, exchange.Key), body.DecodedLength, createOnly, ContentTypeOf(exchange.Request))
        {
            Finish = body.CompleteAsync,
            BeforeCommit = IfMatch(exchange),
        };
        string etag = await WriteAsync(exchange, write, body, oss).ConfigureAwait(false);
        exchange.Bytes = body.DecodedLength;
        exchange.Response.Headers.ETag = S3Xml.QuoteETag(etag);
        S3Responses.ChecksumHeader(exchange.Response, body);
        S3Responses.Empty(exchange, StatusCodes.Status200OK);
    }

    public async Task CopyAsync(S3Exchange exchange)
    {
        var headers = exchange.Request.Headers;
        WriteHeaders.RefuseUnsupported(headers);
        bool createOnly = WriteHeaders.CreateOnly(headers, out bool oss);
        var source = exchange.CopySource!;
        string directive = headers["x-amz-metadata-directive"].ToString();
        if (directive is not ("" or "COPY" or "REPLACE"))
            throw S3Errors.InvalidArgument("Unknown metadata directive.").ToException();
        if (source.Bucket == exchange.Bucket && source.Key == exchange.Key && directive != "REPLACE")
        {
            throw S3Errors.InvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
                .ToException();
        }
        await bodies.DrainAsync(exchange, 0).ConfigureAwait(false);

        var info = await reads.InfoAsync(exchange, source.Bucket, source.Key).ConfigureAwait(false);
        if (S3Preconditions.EvaluateCopySource(headers, info.ETag, info.LastModified) != PreconditionResult.Proceed)
            throw S3Errors.PreconditionFailed().ToException();
        if (info.Size > options.Value.MaxObjectSize)
            throw S3Errors.InvalidRequest($"The specified copy source is larger than the maximum allowable size for a copy source: {options.Value.MaxObjectSize}").ToException();

        string? contentType = directive == "REPLACE" ? ContentTypeOf(exchange.Request) : info.ContentType;
        var write = new WriteRequest(new ObjectUri(exchange.Bucket, exchange.Key), info.Size, createOnly, contentType) { BeforeCommit = IfMatch(exchange) };
        string etag = await CopyThroughAsync(exchange, info, 0, info.Size, source => WriteAsync(exchange, write, source, oss)).ConfigureAwait(false);
        exchange.Bytes = info.Size;
        S3Responses.Xml(exchange);
        await CopyXml.WriteCopyObjectResultAsync(exchange.Response.Body, etag, Now(), cancellationToken: exchange.Aborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="consume"/> over bytes [start, start + length) of a version read through the cluster (so a copy
    /// reads cached shards and leaves the source cached), through a bounded pipe.
    /// </summary>
    public async Task<T> CopyThroughAsync<T>(S3Exchange exchange, ObjectInfo info, long start, long length, Func<Stream, Task<T>> consume)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: CopyPipeBytes, resumeWriterThreshold: CopyPipeBytes / 2));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(exchange.Aborted);
        var produce = Task.Run(async () =>
        {
            try
            {
                await streamer.CopyAsync(info, start, length, pipe.Writer.AsStream(leaveOpen: true), stop.Token).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await pipe.Writer.CompleteAsync(ex).ConfigureAwait(false);
            }
        }, CancellationToken.None);
        try
        {
            await using var source = pipe.Reader.AsStream(leaveOpen: true);
            return await consume(source).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await produce.ConfigureAwait(false);
        }
    }

    public async Task DeleteAsync(S3Exchange exchange)
    {
        await bodies.DrainAsync(exchange, 0).ConfigureAwait(false);
        try
        {
            using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                await origin.DeleteAsync(exchange.Bucket, exchange.Key, exchange.Aborted).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            // A delete of what is not there succeeds, as in S3 (a missing bucket too: there is nothing left to delete).
        }
        await notices.WrittenAsync(exchange.Bucket, [exchange.Key]).ConfigureAwait(false);
        S3Responses.Empty(exchange, StatusCodes.Status204NoContent);
    }

    public async Task DeleteManyAsync(S3Exchange exchange)
    {
        var headers = exchange.Request.Headers;
        bool hasChecksum = headers.ContainsKey("Content-MD5") || headers.Any(h => S3Checksum.TryParseHeaderName(h.Key, out _))
            || headers.ContainsKey("x-amz-trailer");
        if (!hasChecksum)
            throw S3Errors.InvalidRequest("Missing required header for this request: Content-MD5").ToException();
        using var body = bodies.Open(exchange, DeleteObjectsReader.MaxBytes);
        var request = await bodies.WithTimeoutAsync(exchange, ct => DeleteObjectsReader.ReadAsync(body, ct)).ConfigureAwait(false);

        var tenant = exchange.Tenant!;
        string bucket = exchange.Bucket;
        var failures = new List<DeleteFailure>();
        var allowed = new List<string>();
        foreach (var o in request.Objects)
        {
            if (o.VersionId is not null)
            {
                failures.Add(new DeleteFailure(o.Key, "NotImplemented", "This gateway does not delete object versions.") { VersionId = o.VersionId });
                continue;
            }
            if (S3Names.ValidateKey(o.Key) is { } invalid)
            {
                failures.Add(new DeleteFailure(o.Key, invalid.Code, invalid.Message));
                continue;
            }
            // Each key is checked before anything is deleted.
            if (!tenant.Allows(AccessVerbs.Write, bucket, o.Key))
            {
                failures.Add(new DeleteFailure(o.Key, "AccessDenied", "Access Denied"));
                continue;
            }
            allowed.Add(o.Key);
        }

        var deleted = new System.Collections.Concurrent.ConcurrentBag<string>();
        var failed = new System.Collections.Concurrent.ConcurrentBag<DeleteFailure>();
        await Parallel.ForEachAsync(allowed.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = DeleteConcurrency, CancellationToken = exchange.Aborted },
            async (key, ct) =>
            {
                try
                {
                    using (await gate.EnterAsync(ct).ConfigureAwait(false))
                        await origin.DeleteAsync(bucket, key, ct).ConfigureAwait(false);
                    deleted.Add(key);
                }
                catch (ObjectNotFoundException)
                {
                    deleted.Add(key);
                }
                catch (Exception ex) when (ex is ObjectStoreException or ArgumentException)
                {
                    failed.Add(new DeleteFailure(key, "InternalError", "We encountered an internal error. Please try again."));
                }
            }).ConfigureAwait(false);
        await notices.WrittenAsync(bucket, [.. deleted]).ConfigureAwait(false);

        failures.AddRange(failed);
        var deletedEntries = request.Objects.Where(o => o.VersionId is null && deleted.Contains(o.Key)).Select(o => new DeletedObject(o.Key)).ToList();
        S3Responses.Xml(exchange);
        await DeleteResultXml.WriteAsync(exchange.Response.Body, request.Quiet, deletedEntries, failures, exchange.Aborted).ConfigureAwait(false);
    }

    private async Task<string> WriteAsync(S3Exchange exchange, WriteRequest write, Stream source, bool oss)
    {
        try
        {
            return await writer.WriteAsync(exchange, write, source).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectAlreadyExistsException or OssObjectExistsException)
        {
            throw WriteHeaders.Exists(oss).ToException();
        }
    }

    /// <summary>The If-Match check of a write, to run before it commits; null without If-Match.</summary>
    public Func<CancellationToken, Task>? IfMatch(S3Exchange exchange) =>
        WriteHeaders.IfMatch(exchange.Request.Headers) is { } ifMatch
            ? ct => conditions.CheckIfMatchAsync(exchange.Bucket, exchange.Key, ifMatch, ct)
            : null;

    private static string? ContentTypeOf(HttpRequest request) => string.IsNullOrEmpty(request.ContentType) ? null : request.ContentType;

    // S3 times have whole seconds in HTTP headers; the XML carries milliseconds, which are zero here.
    private static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
}
