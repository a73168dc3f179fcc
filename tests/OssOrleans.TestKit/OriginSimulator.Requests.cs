using OssOrleans.Checksums;
using System.Globalization;
using OssOrleans.Storage;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace OssOrleans.TestKit;

public sealed partial class OriginSimulator
{
    private const int UnpacedChunk = 1024 * 1024;
    private const int BodySegment = 64 * 1024 * 1024;

    /// <summary>One request, with the path decoded from the raw target.</summary>
    private sealed class Req
    {
        public required HttpContext Ctx { get; init; }
        public required string RawPath { get; init; }
        public required string Bucket { get; init; }
        public required string Key { get; init; }
        public required Dictionary<string, string> Query { get; init; }
        public required string RequestId { get; init; }
        public bool IsHead => HttpMethods.IsHead(Ctx.Request.Method);
        public CancellationToken Aborted => Ctx.RequestAborted;
        public bool Has(string name) => Query.ContainsKey(name);
        public string? Q(string name) => Query.TryGetValue(name, out var v) ? v : null;
        public string Header(string name) => Ctx.Request.Headers[name].ToString();
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        _counters.Request();
        Req r;
        try
        {
            r = Parse(ctx);
        }
        catch (FormatException e)
        {
            ctx.Response.StatusCode = 400;
            await WriteXmlAsync(ctx, S3Xml.Error("InvalidURI", e.Message, null, "0")).ConfigureAwait(false);
            return;
        }
        var observer = OnRequest;
        if (observer is not null)
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in ctx.Request.Headers)
            {
                headers[name.ToLowerInvariant()] = value.ToString();
            }
            string target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
            observer(new ObservedRequest(ctx.Request.Method, target, r.Bucket, r.Key, headers));
        }
        try
        {
            await DispatchAsync(r).ConfigureAwait(false);
        }
        catch (Exception) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away (or a fault aborted the connection).
        }
        catch (Exception e) when (e is IOException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            ctx.Abort();
        }
        catch (Exception e)
        {
            if (!ctx.Response.HasStarted)
            {
                ctx.Response.Clear();
                await ErrorAsync(r, 500, "InternalError", "Origin simulator failure: " + e.Message).ConfigureAwait(false);
            }
            else
            {
                ctx.Abort();
            }
        }
    }

    private Req Parse(HttpContext ctx)
    {
        string raw = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path.Value ?? "/";
        int scheme = raw.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0 && scheme < raw.IndexOf('/', StringComparison.Ordinal))
        {
            int slash = raw.IndexOf('/', scheme + 3);
            raw = slash < 0 ? "/" : raw[slash..];
        }
        int q = raw.IndexOf('?', StringComparison.Ordinal);
        string rawPath = q < 0 ? raw : raw[..q];
        string rawQuery = q < 0 ? "" : raw[(q + 1)..];
        string path = PercentDecode(rawPath, plusIsSpace: false);
        if (!path.StartsWith('/'))
        {
            throw new FormatException("The request target must start with '/'.");
        }
        string bucket, key;
        int sep = path.IndexOf('/', 1);
        if (sep < 0)
        {
            bucket = path[1..];
            key = "";
        }
        else
        {
            bucket = path[1..sep];
            key = path[(sep + 1)..];
        }
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string name = PercentDecode(eq < 0 ? part : part[..eq], plusIsSpace: true);
            string value = eq < 0 ? "" : PercentDecode(part[(eq + 1)..], plusIsSpace: true);
            query[name] = value;
        }
        return new Req
        {
            Ctx = ctx,
            RawPath = rawPath,
            Bucket = bucket,
            Key = key,
            Query = query,
            RequestId = Interlocked.Increment(ref _requestIds).ToString("X16", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Decodes %XX escapes once, as UTF-8. Invalid escapes are kept literally.</summary>
    internal static string PercentDecode(string s, bool plusIsSpace)
    {
        if (s.IndexOf('%', StringComparison.Ordinal) < 0 && !(plusIsSpace && s.Contains('+', StringComparison.Ordinal)))
        {
            return s;
        }
        var bytes = new List<byte>(s.Length);
        Span<byte> tmp = stackalloc byte[4];
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '%' && i + 2 < s.Length && IsHex(s[i + 1]) && IsHex(s[i + 2]))
            {
                bytes.Add((byte)((HexVal(s[i + 1]) << 4) | HexVal(s[i + 2])));
                i += 2;
            }
            else if (c == '+' && plusIsSpace)
            {
                bytes.Add((byte)' ');
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else
            {
                int take = char.IsHighSurrogate(c) && i + 1 < s.Length ? 2 : 1;
                int n = Encoding.UTF8.GetBytes(s.AsSpan(i, take), tmp);
                for (int k = 0; k < n; k++)
                {
                    bytes.Add(tmp[k]);
                }
                i += take - 1;
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());

        static bool IsHex(char c) => char.IsAsciiHexDigit(c);
        static int HexVal(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    }

    private async Task DispatchAsync(Req r)
    {
        string method = r.Ctx.Request.Method;
        bool isObject = r.Key.Length > 0;
        var kind = Classify(r, method, isObject);
        _counters.Kind(kind);

        var latency = kind == RequestKind.List ? Settings.ListLatency : Settings.FirstByteLatency;
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, r.Aborted).ConfigureAwait(false);
        }

        bool isGet = kind == RequestKind.Get;
        bool isRanged = isGet && r.Ctx.Request.Headers.Range.Count > 0;
        if (Faults.Fail503Slot.TryTake(isGet, isRanged, out _))
        {
            _counters.Fault();
            await ErrorAsync(r, 503, "SlowDown", "Please reduce your request rate. (injected by the origin simulator)").ConfigureAwait(false);
            return;
        }
        long? resetAfter = null;
        if (Faults.ResetSlot.TryTake(isGet, isRanged, out long after))
        {
            _counters.Fault();
            if (!isGet || after < 0)
            {
                r.Ctx.Abort();
                return;
            }
            resetAfter = after;
        }

        if (r.Bucket.Length == 0)
        {
            if (HttpMethods.IsGet(method))
            {
                await ListBucketsAsync(r).ConfigureAwait(false);
            }
            else
            {
                await NotImplementedAsync(r).ConfigureAwait(false);
            }
            return;
        }

        Task task = (method, isObject) switch
        {
            ("GET", true) when r.Has("uploadId") => ListPartsAsync(r),
            ("GET", true) when r.Has("acl") || r.Has("tagging") || r.Has("attributes") || r.Has("torrent") => NotImplementedAsync(r),
            ("GET", true) => GetObjectAsync(r, resetAfter),
            ("HEAD", true) => GetObjectAsync(r, null),
            ("PUT", true) when r.Has("uploadId") || r.Has("partNumber") => UploadPartAsync(r),
            ("PUT", true) when r.Query.Count > 0 && !r.Has("x-id") => NotImplementedAsync(r),
            ("PUT", true) => PutObjectAsync(r),
            ("POST", true) when r.Has("uploads") => InitiateAsync(r),
            ("POST", true) when r.Has("uploadId") => CompleteAsync(r),
            ("DELETE", true) when r.Has("uploadId") => AbortAsync(r),
            ("DELETE", true) => DeleteObjectAsync(r),
            ("GET", false) when r.Q("list-type") == "2" => ListObjectsAsync(r, v2: true),
            ("GET", false) when r.Has("location") => BucketLocationAsync(r),
            ("GET", false) when r.Has("uploads") => ListUploadsAsync(r),
            ("GET", false) when IsBucketListing(r) => ListObjectsAsync(r, v2: false),
            ("HEAD", false) => HeadBucketAsync(r),
            ("PUT", false) when r.Query.Count == 0 => CreateBucketAsync(r),
            ("DELETE", false) when r.Query.Count == 0 => DeleteBucketAsync(r),
            _ => NotImplementedAsync(r),
        };
        await task.ConfigureAwait(false);
    }

    private static readonly HashSet<string> s_listParams = new(StringComparer.Ordinal)
    {
        "prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "x-id",
    };

    private static bool IsBucketListing(Req r) => r.Query.Keys.All(s_listParams.Contains);

    private static RequestKind Classify(Req r, string method, bool isObject)
    {
        if (r.Bucket.Length == 0)
        {
            return HttpMethods.IsGet(method) ? RequestKind.List : RequestKind.Other;
        }
        if (!isObject)
        {
            return HttpMethods.IsGet(method) && (r.Q("list-type") == "2" || IsBucketListing(r)) ? RequestKind.List : RequestKind.Other;
        }
        return method switch
        {
            "HEAD" => RequestKind.Head,
            "GET" when r.Has("uploadId") => RequestKind.Other,
            "GET" => RequestKind.Get,
            "PUT" when r.Has("uploadId") => RequestKind.UploadPart,
            "PUT" => RequestKind.Put,
            "POST" when r.Has("uploads") => RequestKind.Initiate,
            "POST" when r.Has("uploadId") => RequestKind.Complete,
            "DELETE" when r.Has("uploadId") => RequestKind.Abort,
            "DELETE" => RequestKind.Delete,
            _ => RequestKind.Other,
        };
    }

    // ---- responses ---------------------------------------------------------------------------------

    private static async Task WriteXmlAsync(HttpContext ctx, byte[] xml)
    {
        ctx.Response.ContentType = "application/xml";
        ctx.Response.ContentLength = xml.Length;
        await ctx.Response.Body.WriteAsync(xml, ctx.RequestAborted).ConfigureAwait(false);
    }

    private static Task OkXmlAsync(Req r, byte[] xml)
    {
        r.Ctx.Response.StatusCode = 200;
        r.Ctx.Response.Headers["x-amz-request-id"] = r.RequestId;
        return WriteXmlAsync(r.Ctx, xml);
    }

    private static async Task ErrorAsync(Req r, int status, string code, string message,
        IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        var resp = r.Ctx.Response;
        resp.StatusCode = status;
        resp.Headers["x-amz-request-id"] = r.RequestId;
        if (r.IsHead)
        {
            // HEAD errors carry no body; S3 puts nothing else there either.
            resp.ContentLength = 0;
            return;
        }
        await WriteXmlAsync(r.Ctx, S3Xml.Error(code, message, r.RawPath, r.RequestId, extra)).ConfigureAwait(false);
    }

    private static Task NotImplementedAsync(Req r) =>
        ErrorAsync(r, 501, "NotImplemented",
            $"The origin simulator does not implement {r.Ctx.Request.Method} {r.RawPath}?{string.Join('&', r.Query.Keys)}");

    private static Task NoSuchBucketAsync(Req r) =>
        ErrorAsync(r, 404, "NoSuchBucket", "The specified bucket does not exist.", [new("BucketName", r.Bucket)]);

    private static Task NoSuchKeyAsync(Req r) =>
        ErrorAsync(r, 404, "NoSuchKey", "The specified key does not exist.", [new("Key", r.Key)]);

    private static Task NoSuchUploadAsync(Req r) =>
        ErrorAsync(r, 404, "NoSuchUpload",
            "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
            [new("UploadId", r.Q("uploadId") ?? "")]);

    // ---- buckets -----------------------------------------------------------------------------------

    private async Task ListBucketsAsync(Req r)
    {
        var xml = S3Xml.Build("ListAllMyBucketsResult", w =>
        {
            w.Start("Owner");
            w.Element("ID", "origin-simulator");
            w.Element("DisplayName", "origin-simulator");
            w.End("Owner");
            w.Start("Buckets");
            foreach (var b in _buckets.Values.OrderBy(b => b.Name, StringComparer.Ordinal))
            {
                w.Start("Bucket");
                w.Element("Name", b.Name);
                w.Element("CreationDate", S3Xml.IsoTime(b.Created));
                w.End("Bucket");
            }
            w.End("Buckets");
        });
        await OkXmlAsync(r, xml).ConfigureAwait(false);
    }

    private Task CreateBucketAsync(Req r)
    {
        CreateBucket(r.Bucket);
        r.Ctx.Response.StatusCode = 200;
        r.Ctx.Response.Headers["x-amz-request-id"] = r.RequestId;
        r.Ctx.Response.Headers.Location = "/" + r.Bucket;
        r.Ctx.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    private Task HeadBucketAsync(Req r)
    {
        if (FindBucket(r.Bucket) is null)
        {
            return NoSuchBucketAsync(r);
        }
        r.Ctx.Response.StatusCode = 200;
        r.Ctx.Response.Headers["x-amz-request-id"] = r.RequestId;
        r.Ctx.Response.Headers["x-amz-bucket-region"] = "us-east-1";
        r.Ctx.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    private Task DeleteBucketAsync(Req r)
    {
        var b = FindBucket(r.Bucket);
        if (b is null)
        {
            return NoSuchBucketAsync(r);
        }
        lock (b.Gate)
        {
            if (b.Index.Count > 0)
            {
                return ErrorAsync(r, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty.", [new("BucketName", r.Bucket)]);
            }
            _buckets.TryRemove(r.Bucket, out _);
        }
        r.Ctx.Response.StatusCode = 204;
        r.Ctx.Response.Headers["x-amz-request-id"] = r.RequestId;
        return Task.CompletedTask;
    }

    private Task BucketLocationAsync(Req r)
    {
        if (FindBucket(r.Bucket) is null)
        {
            return NoSuchBucketAsync(r);
        }
        return OkXmlAsync(r, S3Xml.Build("LocationConstraint", _ => { }));
    }

    // ---- listing -----------------------------------------------------------------------------------

    private async Task ListObjectsAsync(Req r, bool v2)
    {
        var b = FindBucket(r.Bucket);
        if (b is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        string prefix = r.Q("prefix") ?? "";
        string? delimiter = r.Q("delimiter");
        if (delimiter?.Length == 0)
        {
            delimiter = null;
        }
        string? encodingType = r.Q("encoding-type");
        if (encodingType is not null && encodingType != "url")
        {
            await ErrorAsync(r, 400, "InvalidArgument", "Invalid Encoding Method specified in Request",
                [new("ArgumentName", "encoding-type"), new("ArgumentValue", encodingType)]).ConfigureAwait(false);
            return;
        }
        int limit = Settings.MaxKeysLimit;
        int maxKeys = Math.Min(limit, Settings.OssMode ? 100 : 1000);
        string? maxKeysText = r.Q("max-keys");
        if (maxKeysText is not null)
        {
            if (!int.TryParse(maxKeysText, NumberStyles.None, CultureInfo.InvariantCulture, out int mk))
            {
                await ErrorAsync(r, 400, "InvalidArgument", "Provided max-keys not an integer or within integer range",
                    [new("ArgumentName", "max-keys"), new("ArgumentValue", maxKeysText)]).ConfigureAwait(false);
                return;
            }
            maxKeys = Math.Min(mk, limit);
        }

        string? continuationToken = v2 ? r.Q("continuation-token") : null;
        string? startAfter = v2 ? r.Q("start-after") : r.Q("marker");
        (string Value, bool IsPrefix)? resumeAfter = null;
        if (continuationToken is not null)
        {
            if (!TryDecodeToken(continuationToken, out var decoded))
            {
                await ErrorAsync(r, 400, "InvalidArgument", "The continuation token provided is incorrect",
                    [new("ArgumentName", "continuation-token")]).ConfigureAwait(false);
                return;
            }
            resumeAfter = decoded;
        }
        else if (!string.IsNullOrEmpty(startAfter))
        {
            resumeAfter = (startAfter, false);
        }

        var contents = new List<KeyValuePair<string, StoredObject>>();
        var commonPrefixes = new List<string>();
        bool truncated = false;
        (string Value, bool IsPrefix)? last = null;
        string? firstKey = null;
        lock (b.Gate)
        {
            var index = b.Index;
            if (index.TryGet(index.LowerBound(prefix), out var head) && head.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                firstKey = head.Key;
            }
            var pos = index.LowerBound(prefix);
            if (resumeAfter is { } ra)
            {
                pos = SortedIndex<StoredObject>.Max(pos, ra.IsPrefix ? index.AfterPrefix(ra.Value) : index.UpperBound(ra.Value));
            }
            int count = 0;
            while (index.TryGet(pos, out var entry) && entry.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                if (count >= maxKeys)
                {
                    truncated = maxKeys > 0;
                    break;
                }
                if (delimiter is not null)
                {
                    int d = entry.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                    if (d >= 0)
                    {
                        string cp = entry.Key[..(d + delimiter.Length)];
                        if (resumeAfter is { } from && Utf8Ordinal.CompareStrings(cp, from.Value) <= 0)
                        {
                            // A marker / start-after inside or equal to this prefix: it was listed already.
                            pos = index.AfterPrefix(cp);
                            continue;
                        }
                        commonPrefixes.Add(cp);
                        last = (cp, true);
                        count++;
                        pos = index.AfterPrefix(cp);
                        continue;
                    }
                }
                contents.Add(entry);
                last = (entry.Key, false);
                count++;
                pos = index.Next(pos);
            }
        }

        bool url = encodingType == "url";
        string Enc(string s) => url ? S3Xml.UrlEncode(s) : s;
        var xml = S3Xml.Build("ListBucketResult", w =>
        {
            w.Element("Name", r.Bucket);
            w.Element("Prefix", Enc(prefix));
            if (v2)
            {
                w.Element("KeyCount", contents.Count + commonPrefixes.Count);
                if (continuationToken is not null)
                {
                    w.Element("ContinuationToken", continuationToken);
                }
                if (truncated && last is { } l)
                {
                    string? next = EncodeToken(l);
                    string? loop = firstKey is null ? null : EncodeToken((firstKey, false));
                    if (Faults.ListNoTokenSlot.TryTake(false, false, out _))
                    {
                        _counters.Fault();
                        next = null;
                    }
                    else if (continuationToken is not null && loop is not null && loop != continuationToken
                        && Faults.ListTokenLoopSlot.TryTake(false, false, out _))
                    {
                        _counters.Fault();
                        next = loop;
                    }
                    if (next is not null)
                    {
                        w.Element("NextContinuationToken", next);
                    }
                }
                if (startAfter is not null)
                {
                    w.Element("StartAfter", Enc(startAfter));
                }
            }
            else
            {
                w.Element("Marker", Enc(startAfter ?? ""));
                if (truncated && last is { } l)
                {
                    w.Element("NextMarker", Enc(l.Value));
                }
            }
            w.Element("MaxKeys", maxKeys);
            if (delimiter is not null)
            {
                w.Element("Delimiter", Enc(delimiter));
            }
            if (url)
            {
                w.Element("EncodingType", "url");
            }
            w.Element("IsTruncated", truncated);
            foreach (var (key, obj) in contents)
            {
                w.Start("Contents");
                w.Element("Key", Enc(key));
                w.Element("LastModified", obj.IsoLastModified);
                w.Element("ETag", obj.Blob.ETag);
                w.Element("Size", obj.Blob.Length);
                w.Element("StorageClass", "STANDARD");
                w.End("Contents");
            }
            foreach (var cp in commonPrefixes)
            {
                w.Start("CommonPrefixes");
                w.Element("Prefix", Enc(cp));
                w.End("CommonPrefixes");
            }
        }, capacity: 512 + (200 * (contents.Count + commonPrefixes.Count)));
        await OkXmlAsync(r, xml).ConfigureAwait(false);
    }

    private static string EncodeToken((string Value, bool IsPrefix) resume) =>
        Base64Url((resume.IsPrefix ? "p" : "k") + resume.Value);

    private static string Base64Url(string s) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeToken(string token, out (string Value, bool IsPrefix) resume)
    {
        resume = default;
        try
        {
            string b64 = token.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            string s = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
            if (s.Length < 1 || (s[0] != 'k' && s[0] != 'p'))
            {
                return false;
            }
            resume = (s[1..], s[0] == 'p');
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    // ---- GET / HEAD object ---------------------------------------------------------------------------

    private enum RangeKind
    {
        None,
        Ignored,
        Satisfiable,
        Clamped,
        Unsatisfiable,
    }

    private static RangeKind ParseRange(string header, long size, bool firstOfMany, out long start, out long end)
    {
        start = 0;
        end = size - 1;
        if (string.IsNullOrWhiteSpace(header))
        {
            return RangeKind.None;
        }
        string h = header.Trim();
        if (!h.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return RangeKind.Ignored;
        }
        string spec = h[6..];
        int comma = spec.IndexOf(',', StringComparison.Ordinal);
        if (comma >= 0)
        {
            if (!firstOfMany)
            {
                return RangeKind.Ignored;
            }
            spec = spec[..comma];
        }
        spec = spec.Trim();
        int dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return RangeKind.Ignored;
        }
        string a = spec[..dash].Trim(), b = spec[(dash + 1)..].Trim();
        if (a.Length == 0)
        {
            if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            {
                return RangeKind.Ignored;
            }
            if (n == 0 || size == 0)
            {
                return RangeKind.Unsatisfiable;
            }
            start = Math.Max(0, size - n);
            return n > size ? RangeKind.Clamped : RangeKind.Satisfiable;
        }
        if (!long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            return RangeKind.Ignored;
        }
        if (b.Length == 0)
        {
            end = size - 1;
            return start >= size ? RangeKind.Unsatisfiable : RangeKind.Satisfiable;
        }
        if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out long last) || last < start)
        {
            start = 0;
            return RangeKind.Ignored;
        }
        if (start >= size)
        {
            return RangeKind.Unsatisfiable;
        }
        end = Math.Min(last, size - 1);
        return last >= size ? RangeKind.Clamped : RangeKind.Satisfiable;
    }

    private static bool ETagMatches(StringValues header, string eTag)
    {
        var bare = eTag.AsSpan().Trim('"');
        foreach (var value in header)
        {
            if (value is null)
            {
                continue;
            }
            foreach (var raw in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var t = raw.AsSpan();
                if (t.SequenceEqual("*"))
                {
                    return true;
                }
                if (t.StartsWith("W/"))
                {
                    t = t[2..];
                }
                if (t.Trim('"').SequenceEqual(bare))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static bool TryHttpDate(StringValues header, out DateTimeOffset date) =>
        DateTimeOffset.TryParse(header.ToString(), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out date);

    private static DateTimeOffset Seconds(DateTimeOffset t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), t.Offset);

    private void SetObjectHeaders(Req r, StoredObject obj)
    {
        var h = r.Ctx.Response.Headers;
        h["x-amz-request-id"] = r.RequestId;
        h.ETag = obj.Blob.ETag;
        h.LastModified = obj.LastModified.ToString("R", CultureInfo.InvariantCulture);
        h.AcceptRanges = "bytes";
        if (Settings.Crc64Header)
        {
            h["x-oss-hash-crc64ecma"] = obj.Blob.Crc64.ToString(CultureInfo.InvariantCulture);
        }
        if (obj.Metadata is not null)
        {
            foreach (var (k, v) in obj.Metadata)
            {
                h[k] = v;
            }
        }
    }

    private async Task GetObjectAsync(Req r, long? resetAfter)
    {
        var b = FindBucket(r.Bucket);
        if (b is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        var obj = b.Get(r.Key);
        if (obj is null)
        {
            await NoSuchKeyAsync(r).ConfigureAwait(false);
            return;
        }
        var blob = obj.Blob;
        long size = blob.Length;
        var reqHeaders = r.Ctx.Request.Headers;
        var lastModified = Seconds(obj.LastModified);

        if (reqHeaders.IfMatch.Count > 0 && !ETagMatches(reqHeaders.IfMatch, blob.ETag))
        {
            await ErrorAsync(r, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                [new("Condition", "If-Match")]).ConfigureAwait(false);
            return;
        }
        if (reqHeaders.IfMatch.Count == 0 && reqHeaders.IfUnmodifiedSince.Count > 0
            && TryHttpDate(reqHeaders.IfUnmodifiedSince, out var ius) && lastModified > ius)
        {
            await ErrorAsync(r, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                [new("Condition", "If-Unmodified-Since")]).ConfigureAwait(false);
            return;
        }
        bool notModified = reqHeaders.IfNoneMatch.Count > 0
            ? ETagMatches(reqHeaders.IfNoneMatch, blob.ETag)
            : reqHeaders.IfModifiedSince.Count > 0 && TryHttpDate(reqHeaders.IfModifiedSince, out var ims) && lastModified <= ims;
        if (notModified)
        {
            r.Ctx.Response.StatusCode = 304;
            SetObjectHeaders(r, obj);
            return;
        }

        bool oss = Settings.OssMode;
        bool standardRanges = !oss || string.Equals(r.Header("x-oss-range-behavior"), "standard", StringComparison.OrdinalIgnoreCase);
        var kind = ParseRange(reqHeaders.Range.ToString(), size, firstOfMany: oss, out long start, out long end);
        bool partial;
        switch (kind)
        {
            case RangeKind.Satisfiable:
                partial = true;
                break;
            case RangeKind.Clamped:
                partial = standardRanges;
                break;
            case RangeKind.Unsatisfiable when standardRanges:
                r.Ctx.Response.Headers.ContentRange = $"bytes */{size}";
                await ErrorAsync(r, 416, "InvalidRange", "The requested range is not satisfiable",
                    [new("RangeRequested", reqHeaders.Range.ToString()), new("ActualObjectSize", size.ToString(CultureInfo.InvariantCulture))])
                    .ConfigureAwait(false);
                return;
            default:
                partial = false;
                break;
        }
        if (!partial)
        {
            start = 0;
            end = size - 1;
        }

        long? stopAfter = null;
        if (!r.IsHead)
        {
            long bodyLength = end - start + 1;
            if (resetAfter is { } ra)
            {
                if (bodyLength == 0)
                {
                    r.Ctx.Abort();
                    return;
                }
                stopAfter = Math.Clamp(ra, 0, bodyLength - 1);
            }
            else if (Faults.TruncateSlot.TryTake(true, reqHeaders.Range.Count > 0, out long send))
            {
                _counters.Fault();
                if (bodyLength == 0)
                {
                    r.Ctx.Abort();
                    return;
                }
                stopAfter = send < 0 ? bodyLength / 2 : Math.Clamp(send, 0, bodyLength - 1);
            }
            else if (partial && Faults.Full200Slot.TryTake(true, true, out _))
            {
                _counters.Fault();
                partial = false;
                start = 0;
                end = size - 1;
            }
            else if (partial && bodyLength < size && Faults.WrongRangeSlot.TryTake(true, true, out long shift))
            {
                _counters.Fault();
                long s = Math.Min(Math.Abs(shift), size - bodyLength);
                if (end + s <= size - 1)
                {
                    start += s;
                    end += s;
                }
                else
                {
                    long back = Math.Min(s, start);
                    if (back == 0)
                    {
                        back = s;
                    }
                    start -= back;
                    end -= back;
                }
            }
        }

        var resp = r.Ctx.Response;
        resp.StatusCode = partial ? 206 : 200;
        SetObjectHeaders(r, obj);
        resp.ContentType = obj.ContentType;
        resp.ContentLength = size == 0 ? 0 : end - start + 1;
        if (partial)
        {
            resp.Headers.ContentRange = $"bytes {start}-{end}/{size}";
        }
        if (r.IsHead || size == 0)
        {
            return;
        }

        long toSend = stopAfter ?? (end - start + 1);
        await WriteBlobAsync(r, blob, start, toSend).ConfigureAwait(false);
        if (stopAfter is not null)
        {
            await resp.Body.FlushAsync(r.Aborted).ConfigureAwait(false);
            await Task.Delay(50, r.Aborted).ConfigureAwait(false);
            r.Ctx.Abort();
        }
    }

    private async Task WriteBlobAsync(Req r, Blob blob, long start, long count)
    {
        var body = r.Ctx.Response.Body;
        var ct = r.Aborted;
        StreamPacer? pacer = null;
        long pos = start;
        long remaining = count;
        int seg = count > 0 ? blob.SegmentOf(pos) : 0;
        if (count > 0)
        {
            await r.Ctx.Response.StartAsync(ct).ConfigureAwait(false);
        }
        while (remaining > 0)
        {
            byte[] segment = blob.Segments[seg];
            long offset = pos - blob.Starts[seg];
            if (offset >= segment.Length)
            {
                seg++;
                continue;
            }
            long perConnection = Settings.PerConnectionBytesPerSecond;
            long aggregate = Settings.AggregateBytesPerSecond;
            bool paced = perConnection > 0 || aggregate > 0;
            int n = (int)Math.Min(Math.Min(remaining, paced ? Settings.ChunkSize : UnpacedChunk), segment.Length - offset);
            if (paced)
            {
                pacer ??= new StreamPacer(_downloadLimiter);
                await pacer.BeforeChunkAsync(n, perConnection, aggregate, ct).ConfigureAwait(false);
            }
            await body.WriteAsync(segment.AsMemory((int)offset, n), ct).ConfigureAwait(false);
            _counters.GetBytes(n);
            pos += n;
            remaining -= n;
        }
    }

    // ---- PUT / multipart -----------------------------------------------------------------------------

    private static List<KeyValuePair<string, string>>? UserMetadata(Req r)
    {
        List<KeyValuePair<string, string>>? list = null;
        foreach (var (name, value) in r.Ctx.Request.Headers)
        {
            if (name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase))
            {
                (list ??= []).Add(new(name.ToLowerInvariant(), value.ToString()));
            }
        }
        return list;
    }

    private string ContentTypeOf(Req r) =>
        string.IsNullOrEmpty(r.Ctx.Request.ContentType) ? DefaultContentType : r.Ctx.Request.ContentType;

    /// <summary>Rejects aws-chunked bodies, which this simulator (like several S3-compatible stores) does not decode.</summary>
    private static async Task<bool> RejectAwsChunkedAsync(Req r)
    {
        var h = r.Ctx.Request.Headers;
        bool chunked = h.ContentEncoding.ToString().Contains("aws-chunked", StringComparison.OrdinalIgnoreCase)
            || r.Header("x-amz-content-sha256").StartsWith("STREAMING-", StringComparison.OrdinalIgnoreCase)
            || h.ContainsKey("x-amz-decoded-content-length")
            || h.ContainsKey("x-amz-trailer");
        if (!chunked)
        {
            return false;
        }
        await ErrorAsync(r, 400, "AwsChunkedEncodingRejected",
            "The origin simulator rejects aws-chunked request bodies (Content-Encoding: aws-chunked, x-amz-content-sha256: STREAMING-*, " +
            "x-amz-trailer). Set UseChunkEncoding = false on PutObject/UploadPart and RequestChecksumCalculation = WHEN_REQUIRED.")
            .ConfigureAwait(false);
        return true;
    }

    /// <summary>Reads the request body into arrays of at most 64 MiB; null (after answering) on error.</summary>
    private async Task<byte[][]?> ReadBodyAsync(Req r)
    {
        var request = r.Ctx.Request;
        if (string.Equals(request.Headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD", StringComparison.Ordinal))
        {
            _counters.Unsigned();
        }
        long? length = request.ContentLength;
        if (length > MaxSinglePutSize)
        {
            await ErrorAsync(r, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.").ConfigureAwait(false);
            return null;
        }
        var body = request.Body;
        var ct = r.Aborted;
        var segments = new List<byte[]>();
        StreamPacer? pacer = null;
        long total = 0;
        while (true)
        {
            int segSize = length is { } len
                ? (int)Math.Min(len - total, BodySegment)
                : 1024 * 1024;
            if (segSize == 0)
            {
                break;
            }
            var segment = GC.AllocateUninitializedArray<byte>(segSize);
            int filled = 0;
            bool eof = false;
            while (filled < segSize)
            {
                long perConnection = Settings.PerConnectionUploadBytesPerSecond;
                long aggregate = Settings.AggregateUploadBytesPerSecond;
                bool paced = perConnection > 0 || aggregate > 0;
                int want = paced ? Math.Min(segSize - filled, Settings.ChunkSize) : segSize - filled;
                if (paced)
                {
                    pacer ??= new StreamPacer(_uploadLimiter);
                    await pacer.BeforeChunkAsync(want, perConnection, aggregate, ct).ConfigureAwait(false);
                }
                int n = await body.ReadAsync(segment.AsMemory(filled, want), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    eof = true;
                    break;
                }
                filled += n;
                _counters.PutBytes(n);
            }
            total += filled;
            if (eof)
            {
                if (length is not null)
                {
                    await ErrorAsync(r, 400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
                        .ConfigureAwait(false);
                    return null;
                }
                if (filled > 0)
                {
                    segments.Add(segment.AsSpan(0, filled).ToArray());
                }
                break;
            }
            segments.Add(segment);
            if (length is null && total > MaxSinglePutSize)
            {
                await ErrorAsync(r, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.").ConfigureAwait(false);
                return null;
            }
        }
        if (segments.Count == 0)
        {
            segments.Add([]);
        }

        string contentMd5 = r.Header("Content-MD5");
        if (contentMd5.Length > 0)
        {
            byte[] expected;
            try
            {
                expected = Convert.FromBase64String(contentMd5);
            }
            catch (FormatException)
            {
                await ErrorAsync(r, 400, "InvalidDigest", "The Content-MD5 you specified is not valid.").ConfigureAwait(false);
                return null;
            }
            if (!Blob.ComputeMd5(segments.ToArray()).AsSpan().SequenceEqual(expected))
            {
                await ErrorAsync(r, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.").ConfigureAwait(false);
                return null;
            }
        }
        return segments.ToArray();
    }

    private bool IsCreateOnly(Req r, out bool ossForbid)
    {
        ossForbid = Settings.OssMode && string.Equals(r.Header("x-oss-forbid-overwrite"), "true", StringComparison.OrdinalIgnoreCase);
        return r.Header("If-None-Match").Trim() == "*";
    }

    private static Task ExistsErrorAsync(Req r, bool ossForbid) => ossForbid
        ? ErrorAsync(r, 409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
        : ErrorAsync(r, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
            [new("Condition", "If-None-Match")]);

    private async Task PutObjectAsync(Req r)
    {
        var b = FindBucket(r.Bucket);
        if (b is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        if (await RejectAwsChunkedAsync(r).ConfigureAwait(false))
        {
            return;
        }
        if (r.Ctx.Request.Headers.ContainsKey("x-amz-copy-source"))
        {
            await NotImplementedAsync(r).ConfigureAwait(false);
            return;
        }
        if (Encoding.UTF8.GetByteCount(r.Key) > MaxKeyBytes)
        {
            await ErrorAsync(r, 400, "KeyTooLongError", "Your key is too long").ConfigureAwait(false);
            return;
        }
        bool ifNoneMatch = IsCreateOnly(r, out bool ossForbid);
        bool createOnly = ifNoneMatch || ossForbid;
        if (createOnly && b.Get(r.Key) is not null)
        {
            await ExistsErrorAsync(r, ossForbid && !ifNoneMatch).ConfigureAwait(false);
            return;
        }
        var segments = await ReadBodyAsync(r).ConfigureAwait(false);
        if (segments is null)
        {
            return;
        }
        var obj = new StoredObject(Blob.Create(segments, Settings.Md5ETags), DateTimeOffset.UtcNow, ContentTypeOf(r), UserMetadata(r));
        if (!b.TrySet(r.Key, obj, createOnly))
        {
            await ExistsErrorAsync(r, ossForbid && !ifNoneMatch).ConfigureAwait(false);
            return;
        }
        var resp = r.Ctx.Response;
        resp.StatusCode = 200;
        resp.Headers["x-amz-request-id"] = r.RequestId;
        resp.Headers.ETag = obj.Blob.ETag;
        if (Settings.Crc64Header)
        {
            resp.Headers["x-oss-hash-crc64ecma"] = obj.Blob.Crc64.ToString(CultureInfo.InvariantCulture);
        }
        resp.ContentLength = 0;
    }

    private async Task DeleteObjectAsync(Req r)
    {
        var b = FindBucket(r.Bucket);
        if (b is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        b.Remove(r.Key);
        r.Ctx.Response.StatusCode = 204;
        r.Ctx.Response.Headers["x-amz-request-id"] = r.RequestId;
    }

    private async Task InitiateAsync(Req r)
    {
        var b = FindBucket(r.Bucket);
        if (b is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        if (Encoding.UTF8.GetByteCount(r.Key) > MaxKeyBytes)
        {
            await ErrorAsync(r, 400, "KeyTooLongError", "Your key is too long").ConfigureAwait(false);
            return;
        }
        var upload = new MultipartUpload(Guid.NewGuid().ToString("N"), b, r.Key, ContentTypeOf(r), UserMetadata(r));
        _uploads[upload.Id] = upload;
        var xml = S3Xml.Build("InitiateMultipartUploadResult", w =>
        {
            w.Element("Bucket", r.Bucket);
            w.Element("Key", r.Key);
            w.Element("UploadId", upload.Id);
        });
        await OkXmlAsync(r, xml).ConfigureAwait(false);
    }

    private MultipartUpload? FindUpload(Req r) =>
        _uploads.TryGetValue(r.Q("uploadId") ?? "", out var u) && u.Bucket.Name == r.Bucket && u.Key == r.Key ? u : null;

    private async Task UploadPartAsync(Req r)
    {
        if (FindBucket(r.Bucket) is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        if (await RejectAwsChunkedAsync(r).ConfigureAwait(false))
        {
            return;
        }
        var upload = FindUpload(r);
        if (upload is null)
        {
            await NoSuchUploadAsync(r).ConfigureAwait(false);
            return;
        }
        if (!int.TryParse(r.Q("partNumber"), NumberStyles.None, CultureInfo.InvariantCulture, out int partNumber)
            || partNumber < 1 || partNumber > 10000)
        {
            await ErrorAsync(r, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
                [new("ArgumentName", "partNumber"), new("ArgumentValue", r.Q("partNumber") ?? "")]).ConfigureAwait(false);
            return;
        }
        if (r.Ctx.Request.Headers.ContainsKey("x-amz-copy-source"))
        {
            await NotImplementedAsync(r).ConfigureAwait(false);
            return;
        }
        var segments = await ReadBodyAsync(r).ConfigureAwait(false);
        if (segments is null)
        {
            return;
        }
        if (segments.Length > 0 && segments[0].Length > 0 && Faults.CorruptPartSlot.TryTake(false, false, out _))
        {
            _counters.Fault();
            segments[0][0] ^= 0xFF;
        }
        var part = Blob.Create(segments, Settings.Md5ETags);
        upload.Parts[partNumber] = part;
        upload.PartTimes[partNumber] = DateTimeOffset.UtcNow;
        var resp = r.Ctx.Response;
        resp.StatusCode = 200;
        resp.Headers["x-amz-request-id"] = r.RequestId;
        resp.Headers.ETag = part.ETag;
        if (Settings.Crc64Header)
        {
            resp.Headers["x-oss-hash-crc64ecma"] = part.Crc64.ToString(CultureInfo.InvariantCulture);
        }
        resp.ContentLength = 0;
    }

    private async Task CompleteAsync(Req r)
    {
        if (FindBucket(r.Bucket) is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        var upload = FindUpload(r);
        if (upload is null)
        {
            await NoSuchUploadAsync(r).ConfigureAwait(false);
            return;
        }
        string text;
        using (var reader = new StreamReader(r.Ctx.Request.Body, Encoding.UTF8))
        {
            text = await reader.ReadToEndAsync(r.Aborted).ConfigureAwait(false);
        }
        var requested = new List<(int Number, string ETag)>();
        try
        {
            var doc = XDocument.Parse(text);
            foreach (var p in doc.Root?.Elements().Where(e => e.Name.LocalName == "Part") ?? [])
            {
                string? num = p.Elements().FirstOrDefault(e => e.Name.LocalName == "PartNumber")?.Value;
                string? etag = p.Elements().FirstOrDefault(e => e.Name.LocalName == "ETag")?.Value;
                if (num is null || etag is null || !int.TryParse(num.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                {
                    throw new FormatException("Part without a valid PartNumber and ETag.");
                }
                requested.Add((n, etag.Trim()));
            }
        }
        catch (Exception e) when (e is System.Xml.XmlException or FormatException)
        {
            requested.Clear();
        }
        if (requested.Count == 0)
        {
            await ErrorAsync(r, 400, "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema").ConfigureAwait(false);
            return;
        }
        long minPart = Settings.EffectiveMinPartSize;
        var blobs = new List<Blob>(requested.Count);
        for (int i = 0; i < requested.Count; i++)
        {
            var (number, etag) = requested[i];
            if (i > 0 && number <= requested[i - 1].Number)
            {
                await ErrorAsync(r, 400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
                    .ConfigureAwait(false);
                return;
            }
            if (!upload.Parts.TryGetValue(number, out var part) || part.ETag.Trim('"') != etag.Trim('"'))
            {
                await ErrorAsync(r, 400, "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                    [new("PartNumber", number.ToString(CultureInfo.InvariantCulture)), new("ETag", etag)]).ConfigureAwait(false);
                return;
            }
            if (i < requested.Count - 1 && part.Length < minPart)
            {
                await ErrorAsync(r, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
                    [new("ProposedSize", part.Length.ToString(CultureInfo.InvariantCulture)),
                     new("MinSizeAllowed", minPart.ToString(CultureInfo.InvariantCulture)),
                     new("PartNumber", number.ToString(CultureInfo.InvariantCulture))]).ConfigureAwait(false);
                return;
            }
            blobs.Add(part);
        }
        bool ifNoneMatch = IsCreateOnly(r, out bool ossForbid);
        bool createOnly = ifNoneMatch || ossForbid;
        if (createOnly && upload.Bucket.Get(upload.Key) is not null)
        {
            await ExistsErrorAsync(r, ossForbid && !ifNoneMatch).ConfigureAwait(false);
            return;
        }

        var segments = blobs.SelectMany(p => p.Segments).ToArray();
        string hex;
        if (Settings.Md5ETags)
        {
            var concat = new byte[16 * blobs.Count];
            for (int i = 0; i < blobs.Count; i++)
            {
                (blobs[i].Md5 ?? System.Security.Cryptography.MD5.HashData(Encoding.ASCII.GetBytes(blobs[i].ETag))).CopyTo(concat, 16 * i);
            }
            hex = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(concat));
        }
        else
        {
            hex = Blob.NewUniqueTag().Trim('"')[..32];
        }
        var blob = new Blob(segments, Blob.Quote($"{hex}-{blobs.Count}"), null);
        if (Settings.Crc64Header)
        {
            // As a server would: the object's CRC from its parts' CRCs (computed when each part arrived), not a re-read.
            ulong crc = 0;
            foreach (var b in blobs)
            {
                crc = Crc64Xz.Combine(crc, b.Crc64, b.Length);
            }
            blob.SetKnownCrc64(crc);
        }
        var obj = new StoredObject(blob, DateTimeOffset.UtcNow, upload.ContentType, upload.Metadata);
        if (!_uploads.TryRemove(upload.Id, out _))
        {
            await NoSuchUploadAsync(r).ConfigureAwait(false);
            return;
        }
        if (!upload.Bucket.TrySet(upload.Key, obj, createOnly))
        {
            _uploads[upload.Id] = upload;
            await ExistsErrorAsync(r, ossForbid && !ifNoneMatch).ConfigureAwait(false);
            return;
        }
        var xml = S3Xml.Build("CompleteMultipartUploadResult", w =>
        {
            w.Element("Location", new Uri(Endpoint, r.RawPath).ToString());
            w.Element("Bucket", r.Bucket);
            w.Element("Key", r.Key);
            w.Element("ETag", blob.ETag);
        });
        if (Settings.Crc64Header)
        {
            r.Ctx.Response.Headers["x-oss-hash-crc64ecma"] = blob.Crc64.ToString(CultureInfo.InvariantCulture);
        }
        await OkXmlAsync(r, xml).ConfigureAwait(false);
    }

    private async Task ListPartsAsync(Req r)
    {
        if (FindBucket(r.Bucket) is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        var upload = FindUpload(r);
        if (upload is null)
        {
            await NoSuchUploadAsync(r).ConfigureAwait(false);
            return;
        }
        int marker = int.TryParse(r.Q("part-number-marker"), NumberStyles.None, CultureInfo.InvariantCulture, out int m) ? m : 0;
        int max = int.TryParse(r.Q("max-parts"), NumberStyles.None, CultureInfo.InvariantCulture, out int x) ? Math.Clamp(x, 1, 1000) : 1000;
        var parts = upload.Parts.Where(p => p.Key > marker).OrderBy(p => p.Key).ToList();
        bool truncated = parts.Count > max;
        parts = parts.Take(max).ToList();
        var xml = S3Xml.Build("ListPartsResult", w =>
        {
            w.Element("Bucket", r.Bucket);
            w.Element("Key", r.Key);
            w.Element("UploadId", upload.Id);
            w.Element("PartNumberMarker", marker.ToString(CultureInfo.InvariantCulture));
            if (truncated)
            {
                w.Element("NextPartNumberMarker", parts[^1].Key.ToString(CultureInfo.InvariantCulture));
            }
            w.Element("MaxParts", max.ToString(CultureInfo.InvariantCulture));
            w.Element("IsTruncated", truncated ? "true" : "false");
            foreach (var (number, blob) in parts)
            {
                w.Start("Part");
                w.Element("PartNumber", number.ToString(CultureInfo.InvariantCulture));
                w.Element("LastModified", S3Xml.IsoTime(upload.PartTimes.GetValueOrDefault(number, upload.Initiated)));
                w.Element("ETag", blob.ETag);
                w.Element("Size", blob.Length.ToString(CultureInfo.InvariantCulture));
                w.End("Part");
            }
        });
        await OkXmlAsync(r, xml).ConfigureAwait(false);
    }

    private async Task ListUploadsAsync(Req r)
    {
        if (FindBucket(r.Bucket) is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        string prefix = r.Q("prefix") ?? "";
        string? delimiter = string.IsNullOrEmpty(r.Q("delimiter")) ? null : r.Q("delimiter");
        string keyMarker = r.Q("key-marker") ?? "";
        string uploadIdMarker = r.Q("upload-id-marker") ?? "";
        int max = int.TryParse(r.Q("max-uploads"), NumberStyles.None, CultureInfo.InvariantCulture, out int x) ? Math.Clamp(x, 1, 1000) : 1000;
        var all = _uploads.Values.Where(u => u.Bucket.Name == r.Bucket && u.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(u => u.Key, Utf8Ordinal.Instance).ThenBy(u => u.Id, StringComparer.Ordinal).ToList();
        var uploads = new List<MultipartUpload>();
        var prefixes = new List<string>();
        string? lastKey = null, lastId = null;
        bool truncated = false;
        foreach (var u in all)
        {
            if (keyMarker.Length > 0)
            {
                int c = Utf8Ordinal.Instance.Compare(u.Key, keyMarker);
                if (c < 0 || (c == 0 && (uploadIdMarker.Length == 0 || string.CompareOrdinal(u.Id, uploadIdMarker) <= 0)))
                {
                    continue;
                }
            }
            string? common = null;
            if (delimiter is not null)
            {
                int at = u.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                if (at >= 0)
                {
                    common = u.Key[..(at + delimiter.Length)];
                }
            }
            if (common is not null && prefixes.Count > 0 && prefixes[^1] == common)
            {
                continue;
            }
            if (uploads.Count + prefixes.Count == max)
            {
                truncated = true;
                break;
            }
            if (common is not null)
            {
                prefixes.Add(common);
                (lastKey, lastId) = (common, null);
            }
            else
            {
                uploads.Add(u);
                (lastKey, lastId) = (u.Key, u.Id);
            }
        }
        var xml = S3Xml.Build("ListMultipartUploadsResult", w =>
        {
            w.Element("Bucket", r.Bucket);
            w.Element("KeyMarker", keyMarker);
            w.Element("UploadIdMarker", uploadIdMarker);
            if (truncated)
            {
                w.Element("NextKeyMarker", lastKey ?? "");
                w.Element("NextUploadIdMarker", lastId ?? "");
            }
            w.Element("Prefix", prefix);
            if (delimiter is not null)
            {
                w.Element("Delimiter", delimiter);
            }
            w.Element("MaxUploads", max.ToString(CultureInfo.InvariantCulture));
            w.Element("IsTruncated", truncated ? "true" : "false");
            foreach (var u in uploads)
            {
                w.Start("Upload");
                w.Element("Key", u.Key);
                w.Element("UploadId", u.Id);
                w.Element("StorageClass", "STANDARD");
                w.Element("Initiated", S3Xml.IsoTime(u.Initiated));
                w.End("Upload");
            }
            foreach (var p in prefixes)
            {
                w.Start("CommonPrefixes");
                w.Element("Prefix", p);
                w.End("CommonPrefixes");
            }
        });
        await OkXmlAsync(r, xml).ConfigureAwait(false);
    }

    private async Task AbortAsync(Req r)
    {
        if (FindBucket(r.Bucket) is null)
        {
            await NoSuchBucketAsync(r).ConfigureAwait(false);
            return;
        }
        var upload = FindUpload(r);
        if (upload is null || !_uploads.TryRemove(upload.Id, out _))
        {
            await NoSuchUploadAsync(r).ConfigureAwait(false);
            return;
        }
        r.Ctx.Response.StatusCode = 204;
        r.Ctx.Response.Headers["x-amz-request-id"] = r.RequestId;
    }
}
