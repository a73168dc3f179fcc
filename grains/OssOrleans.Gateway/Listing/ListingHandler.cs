using System.Globalization;
using System.Security.Cryptography;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Cache;
using OssOrleans.Storage;

namespace OssOrleans.Gateway.Listing;

/// <summary>ListObjectsV2, ListObjects (v1) and ListMultipartUploads.</summary>
internal sealed class ListingHandler(ListPager pager, ListCursorCache cursors, IObjectStore origin, OriginGate gate)
{
    private const int MaxKeysLimit = 1000;

    public async Task ListObjectsAsync(S3Exchange exchange, bool v2)
    {
        var query = exchange.Head.Query;
        var tenant = exchange.Tenant!;
        string bucket = exchange.Bucket;
        string prefix = query["prefix"] ?? "";
        string? delimiter = string.IsNullOrEmpty(query["delimiter"]) ? null : query["delimiter"];
        bool urlEncoded = ReadEncoding(query);
        int maxKeys = ReadMaxKeys(query["max-keys"], "max-keys");

        string? after, token = null, startAfter = null, marker = null, cursorKey = null;
        if (v2)
        {
            token = query["continuation-token"];
            startAfter = query["start-after"];
            if (token is not null)
            {
                if (!ContinuationToken.TryDecode(token, out string? cursorId, out string? position))
                    throw S3Errors.InvalidArgument("The continuation token provided is incorrect").ToException();
                after = position;
                cursorKey = "t\n" + cursorId;
            }
            else
            {
                after = string.IsNullOrEmpty(startAfter) ? null : startAfter;
            }
        }
        else
        {
            marker = query["marker"];
            after = string.IsNullOrEmpty(marker) ? null : marker;
            cursorKey = after is null ? null : V1CursorKey(tenant.Id, bucket, prefix, delimiter, after);
        }

        ListPartitionKey listing;
        try
        {
            listing = new ListPartitionKey(bucket, prefix, delimiter, fast: false);
        }
        catch (ArgumentException)
        {
            throw S3Errors.InvalidArgument("This gateway does not list that prefix (it starts with '/' or holds a NUL).").ToException();
        }

        ListPageRead page;
        try
        {
            page = await pager.ReadAsync(tenant, listing, after, cursorKey is null ? null : cursors.TryTake(cursorKey), maxKeys, exchange.Aborted)
                .ConfigureAwait(false);
        }
        catch (OssObjectNotFoundException)
        {
            throw S3Errors.NoSuchBucket().ToException();
        }

        var owner = new S3Owner(tenant.Id, tenant.Id);
        bool withOwner = !v2 || query["fetch-owner"] == "true";
        var objects = new List<ListedObject>();
        var prefixes = new List<string>();
        foreach (var item in page.Items)
        {
            if (item.IsPrefix)
                prefixes.Add(item.Key);
            else
                objects.Add(new ListedObject(item.Key, item.LastModified, item.ETag, item.Size) { Owner = withOwner ? owner : null });
        }
        string? last = page.Items.Count > 0 ? page.Items[^1].Key : null;
        string? nextToken = null;
        if (page.Cursor is not null)
        {
            if (v2)
            {
                string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                cursors.Put("t\n" + id, page.Cursor);
                nextToken = ContinuationToken.Encode(id, last!);
            }
            else
            {
                cursors.Put(V1CursorKey(tenant.Id, bucket, prefix, delimiter, last!), page.Cursor);
            }
        }

        var result = new ListObjectsResult(bucket, prefix, delimiter, maxKeys, page.IsTruncated, objects, prefixes)
        {
            UrlEncoded = urlEncoded,
            ContinuationToken = token,
            NextContinuationToken = nextToken,
            StartAfter = string.IsNullOrEmpty(startAfter) ? null : startAfter,
            Marker = marker,
            NextMarker = page.IsTruncated ? last : null,
        };
        S3Responses.Xml(exchange);
        if (v2)
            await ListObjectsXml.WriteV2Async(exchange.Response.Body, result, exchange.Aborted).ConfigureAwait(false);
        else
            await ListObjectsXml.WriteV1Async(exchange.Response.Body, result, exchange.Aborted).ConfigureAwait(false);
    }

    public async Task ListMultipartUploadsAsync(S3Exchange exchange)
    {
        var query = exchange.Head.Query;
        string bucket = exchange.Bucket;
        bool urlEncoded = ReadEncoding(query);
        int maxUploads = ReadMaxKeys(query["max-uploads"], "max-uploads");
        var request = new MultipartUploadListRequest(bucket, query["prefix"] ?? "")
        {
            Delimiter = string.IsNullOrEmpty(query["delimiter"]) ? null : query["delimiter"],
            KeyMarker = query["key-marker"],
            UploadIdMarker = query["upload-id-marker"],
            MaxUploads = Math.Max(1, maxUploads),
        };
        MultipartUploadPage page;
        try
        {
            using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                page = await origin.ListMultipartUploadsAsync(request, exchange.Aborted).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            throw S3Errors.NoSuchBucket().ToException();
        }
        var owner = new S3Owner(exchange.Tenant!.Id, exchange.Tenant.Id);
        var uploads = maxUploads == 0 ? [] : page.Uploads.Select(u => new UploadEntry(u.Key, u.UploadId, u.Initiated) { Initiator = owner, Owner = owner }).ToList();
        var result = new ListUploadsResult(bucket, maxUploads, maxUploads != 0 && page.IsTruncated, uploads, maxUploads == 0 ? [] : page.CommonPrefixes)
        {
            KeyMarker = request.KeyMarker ?? "",
            UploadIdMarker = request.UploadIdMarker ?? "",
            NextKeyMarker = page.NextKeyMarker,
            NextUploadIdMarker = page.NextUploadIdMarker,
            Prefix = request.Prefix,
            Delimiter = request.Delimiter,
            UrlEncoded = urlEncoded,
        };
        S3Responses.Xml(exchange);
        await MultipartXml.WriteListUploadsAsync(exchange.Response.Body, result, exchange.Aborted).ConfigureAwait(false);
    }

    private static bool ReadEncoding(S3Query query) => query["encoding-type"] switch
    {
        null => false,
        "url" => true,
        _ => throw S3Errors.InvalidArgument("Invalid Encoding Method specified in Request").ToException(),
    };

    private static int ReadMaxKeys(string? text, string name)
    {
        if (text is null)
            return MaxKeysLimit;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) || value < 0)
            throw S3Errors.InvalidArgument($"Provided {name} not an integer or within integer range").ToException();
        return Math.Min(value, MaxKeysLimit);
    }

    // ListObjects v1 pages continue from the marker the client sends, which is the last item of the page before.
    // Fields length-prefixed: keys may hold any character, and two listings must never share a key.
    private static string V1CursorKey(string tenant, string bucket, string prefix, string? delimiter, string marker) =>
        "m" + string.Concat(new[] { tenant, bucket, prefix, delimiter ?? "", marker }.Select(f => f.Length.ToString(CultureInfo.InvariantCulture) + ":" + f));
}
