using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Gateway.Reading;
using OssOrleans.Grains.Cache;
using OssOrleans.Grains.Uploads;
using OssOrleans.Storage;

namespace OssOrleans.Gateway.Writing;

/// <summary>
/// Multipart uploads. Upload ids are the origin's own, so uploads started elsewhere list and complete here too. Each part
/// is received by this silo's <see cref="PartReceiver"/> (checked whole before it goes to the origin, staged for the cache);
/// completion takes part sizes from the origin, never from the client, and goes through the upload grain, which seeds the
/// new version's shards from the parts' receipts and invalidates the cached version.
/// </summary>
internal sealed class MultipartHandler(
    PartReceiver parts,
    ObjectWriter writer,
    ObjectReadHandler reads,
    ObjectWriteHandler copies,
    StagedPartLedger ledger,
    WriteNotices notices,
    BodyReader bodies,
    IGrainFactory grains,
    IObjectStore origin,
    OriginGate gate,
    IOptions<GatewayOptions> options)
{
    /// <summary>S3's smallest part but the last.</summary>
    private const long MinPartSize = 5 << 20;

    public async Task CreateAsync(S3Exchange exchange)
    {
        WriteHeaders.RefuseUnsupported(exchange.Request.Headers);
        await bodies.DrainAsync(exchange, 0).ConfigureAwait(false);
        string uploadId;
        try
        {
            using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
            {
                uploadId = await origin.InitiateMultipartAsync(exchange.Bucket, exchange.Key,
                    new PutOptions { ContentType = string.IsNullOrEmpty(exchange.Request.ContentType) ? null : exchange.Request.ContentType }, exchange.Aborted)
                    .ConfigureAwait(false);
            }
        }
        catch (ObjectNotFoundException)
        {
            throw S3Errors.NoSuchBucket().ToException();
        }
        S3Responses.Xml(exchange);
        await MultipartXml.WriteInitiateAsync(exchange.Response.Body, exchange.Bucket, exchange.Key, uploadId, exchange.Aborted).ConfigureAwait(false);
    }

    public async Task UploadPartAsync(S3Exchange exchange)
    {
        var (uploadId, number) = PartArguments(exchange);
        using var body = bodies.Open(exchange, options.Value.MaxPartSize);
        var answer = await ReceiveAsync(exchange, uploadId, number, body, (int)body.DecodedLength, body.CompleteAsync).ConfigureAwait(false);
        exchange.Bytes = body.DecodedLength;
        exchange.Response.Headers.ETag = S3Xml.QuoteETag(answer.ETag);
        S3Responses.ChecksumHeader(exchange.Response, body);
        S3Responses.Empty(exchange, StatusCodes.Status200OK);
    }

    public async Task UploadPartCopyAsync(S3Exchange exchange)
    {
        var (uploadId, number) = PartArguments(exchange);
        var headers = exchange.Request.Headers;
        var source = exchange.CopySource!;
        await bodies.DrainAsync(exchange, 0).ConfigureAwait(false);
        var info = await reads.InfoAsync(exchange, source.Bucket, source.Key).ConfigureAwait(false);
        if (S3Preconditions.EvaluateCopySource(headers, info.ETag, info.LastModified) != PreconditionResult.Proceed)
            throw S3Errors.PreconditionFailed().ToException();
        var range = new ByteRange(0, info.Size);
        if (headers.TryGetValue("x-amz-copy-source-range", out var rangeHeader)
            && !CopySource.TryParseRange(rangeHeader.ToString(), info.Size, out range, out var rangeError))
        {
            throw rangeError.ToException();
        }
        if (range.Length > options.Value.MaxPartSize)
            throw S3Errors.EntityTooLarge().ToException();
        var answer = await copies.CopyThroughAsync(exchange, info, range.Start, range.Length,
            source => ReceiveAsync(exchange, uploadId, number, source, (int)range.Length, null)).ConfigureAwait(false);
        exchange.Bytes = range.Length;
        S3Responses.Xml(exchange);
        await CopyXml.WriteCopyPartResultAsync(exchange.Response.Body, answer.ETag, DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
            cancellationToken: exchange.Aborted).ConfigureAwait(false);
    }

    public async Task CompleteAsync(S3Exchange exchange)
    {
        var uploadId = UploadId(exchange);
        bool createOnly = WriteHeaders.CreateOnly(exchange.Request.Headers, out bool oss);
        using var body = bodies.Open(exchange, CompleteMultipartUploadReader.MaxBytes);
        var requested = await bodies.WithTimeoutAsync(exchange, ct => CompleteMultipartUploadReader.ReadAsync(body, ct)).ConfigureAwait(false);
        var uri = new ObjectUri(exchange.Bucket, exchange.Key);

        var sizes = await PartSizesAsync(exchange, uploadId, requested).ConfigureAwait(false);
        var completed = new List<UploadedPartInfo>(requested.Count);
        for (int i = 0; i < requested.Count; i++)
        {
            var p = requested[i];
            if (!sizes.TryGetValue(p.PartNumber, out var known) || !StoreKeys.ETagEquals(known.ETag, p.ETag))
                throw S3Errors.InvalidPart().ToException();
            if (i < requested.Count - 1 && known.Size < MinPartSize)
                throw S3Errors.EntityTooSmall().ToException();
            completed.Add(new UploadedPartInfo(p.PartNumber, known.ETag, known.Size));
        }

        if (copies.IfMatch(exchange) is { } ifMatch)
            await ifMatch(exchange.Aborted).ConfigureAwait(false);
        string etag;
        try
        {
            if (completed.Select((p, i) => p.PartNumber == i + 1).All(x => x))
            {
                // The cluster's writer: completes, drops the cached version, and seeds the new one from the staged parts.
                var session = writer.Session(uri, uploadId, options.Value.MaxPartSize, createOnly, exchange.Tenant!.Id);
                var receipts = ledger.Receipts(uri.Bucket, uri.Key, uploadId, completed.Select(p => (p.PartNumber, p.ETag)));
                var upload = grains.GetGrain<IUploadGrain>(TenantKeys.Owned(exchange.Tenant.Id, Guid.NewGuid().ToString("N")));
                etag = (await upload.CompleteAsync(session, [.. completed], receipts).ConfigureAwait(false)).ETag;
            }
            else
            {
                // Parts numbered with gaps (S3 allows it): no part's place in the object is known from its number, so the
                // staged bytes are not used; the origin completes and the cached version is dropped as for any write.
                if (createOnly)
                    throw S3Errors.NotImplemented("A create-only completion needs parts numbered from 1 without gaps.").ToException();
                PutResult result;
                using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                {
                    result = await origin.CompleteMultipartAsync(uri.Bucket, uri.Key, uploadId,
                        [.. completed.Select(p => new UploadedPart(p.PartNumber, p.ETag, p.Size))], exchange.Aborted).ConfigureAwait(false);
                }
                await notices.WrittenAsync(uri.Bucket, [uri.Key]).ConfigureAwait(false);
                etag = result.ETag;
            }
        }
        catch (Exception ex) when (ex is ObjectAlreadyExistsException or OssObjectExistsException)
        {
            throw WriteHeaders.Exists(oss).ToException();
        }
        ledger.Forget(uri.Bucket, uri.Key, uploadId);
        exchange.Bytes = completed.Sum(p => p.Size);
        S3Responses.Xml(exchange);
        string location = $"{exchange.Request.Scheme}://{exchange.Request.Host}/{Uri.EscapeDataString(uri.Bucket)}/{S3Uri.Encode(uri.Key, keepSlash: true)}";
        await MultipartXml.WriteCompleteAsync(exchange.Response.Body, location, uri.Bucket, uri.Key, etag, cancellationToken: exchange.Aborted).ConfigureAwait(false);
    }

    public async Task AbortAsync(S3Exchange exchange)
    {
        var uploadId = UploadId(exchange);
        await bodies.DrainAsync(exchange, 0).ConfigureAwait(false);
        try
        {
            // Aborting is idempotent at most origins (the S3 adapter takes a 404 as done); S3 answers an unknown id with NoSuchUpload.
            using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                await origin.ListPartsAsync(exchange.Bucket, exchange.Key, uploadId, 0, 1, exchange.Aborted).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
        }
        using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
            await origin.AbortMultipartAsync(exchange.Bucket, exchange.Key, uploadId, exchange.Aborted).ConfigureAwait(false);
        ledger.Forget(exchange.Bucket, exchange.Key, uploadId);
        S3Responses.Empty(exchange, StatusCodes.Status204NoContent);
    }

    public async Task ListPartsAsync(S3Exchange exchange)
    {
        var uploadId = UploadId(exchange);
        var query = exchange.Head.Query;
        int marker = ReadNumber(query["part-number-marker"], "part-number-marker", 0);
        int maxParts = Math.Min(ReadNumber(query["max-parts"], "max-parts", 1000), 1000);
        PartPage page;
        using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
            page = await origin.ListPartsAsync(exchange.Bucket, exchange.Key, uploadId, marker, Math.Max(1, maxParts), exchange.Aborted).ConfigureAwait(false);
        var owner = new S3Owner(exchange.Tenant!.Id, exchange.Tenant.Id);
        var result = new ListPartsResult(exchange.Bucket, exchange.Key, uploadId, marker, maxParts, page.IsTruncated,
            [.. page.Parts.Select(p => new PartEntry(p.PartNumber, p.LastModified, p.ETag, p.Size))])
        {
            NextPartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : null,
            Initiator = owner,
            Owner = owner,
        };
        S3Responses.Xml(exchange);
        await MultipartXml.WriteListPartsAsync(exchange.Response.Body, result, exchange.Aborted).ConfigureAwait(false);
    }

    private async Task<PartAnswer> ReceiveAsync(S3Exchange exchange, string uploadId, int number, Stream source, int length,
        Func<CancellationToken, ValueTask>? finish)
    {
        var session = writer.Session(new ObjectUri(exchange.Bucket, exchange.Key), uploadId, options.Value.MaxPartSize, createOnly: false, exchange.Tenant!.Id);
        var claims = writer.Claims(session);
        using var slot = await parts.TryEnterAsync(exchange.Tenant.Id, exchange.Aborted).ConfigureAwait(false)
            ?? throw S3Errors.SlowDown().ToException();
        var answer = await bodies.WithTimeoutAsync(exchange, async ct =>
        {
            var received = await parts.ReceiveAsync(claims, number, source, length, stage: true, ct).ConfigureAwait(false);
            if (finish is not null)
                await finish(ct).ConfigureAwait(false);
            return received;
        }).ConfigureAwait(false);
        ledger.Record(exchange.Bucket, exchange.Key, uploadId, number, answer);
        return answer;
    }

    /// <summary>Every requested part's ETag and size at the origin (or, where the origin cannot list parts, as received here).</summary>
    private async Task<Dictionary<int, (string ETag, long Size)>> PartSizesAsync(S3Exchange exchange, string uploadId, IReadOnlyList<CompletedPart> requested)
    {
        var found = new Dictionary<int, (string, long)>();
        try
        {
            int marker = 0;
            while (true)
            {
                PartPage page;
                using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                    page = await origin.ListPartsAsync(exchange.Bucket, exchange.Key, uploadId, marker, 1000, exchange.Aborted).ConfigureAwait(false);
                foreach (var p in page.Parts)
                    found[p.PartNumber] = (p.ETag, p.Size);
                if (!page.IsTruncated || page.NextPartNumberMarker <= marker)
                    return found;
                marker = page.NextPartNumberMarker;
            }
        }
        catch (NotSupportedException)
        {
            foreach (var p in requested)
            {
                if (ledger.SizeOf(exchange.Bucket, exchange.Key, uploadId, p.PartNumber, p.ETag) is long size)
                    found[p.PartNumber] = (p.ETag, size);
                else
                    throw S3Errors.NotImplemented("The origin cannot list parts, and this part was not uploaded through this silo.").ToException();
            }
            return found;
        }
    }

    private static (string UploadId, int PartNumber) PartArguments(S3Exchange exchange)
    {
        string uploadId = UploadId(exchange);
        string? text = exchange.Head.Query["partNumber"];
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 10_000)
            throw S3Errors.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive").ToException();
        return (uploadId, number);
    }

    private static string UploadId(S3Exchange exchange)
    {
        string? id = exchange.Head.Query["uploadId"];
        // Origin upload ids are short tokens; anything long or with control characters is not one.
        if (string.IsNullOrEmpty(id) || id.Length > 1024 || id.Any(char.IsControl))
            throw S3Errors.NoSuchUpload().ToException();
        return id;
    }

    private static int ReadNumber(string? text, string name, int absent)
    {
        if (text is null)
            return absent;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            throw S3Errors.InvalidArgument($"Provided {name} not an integer or within integer range").ToException();
        return value;
    }
}
