using OssOrleans.Checksums;
using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Xml;
using Amazon.Runtime;
using Amazon.S3;

namespace OssOrleans.Storage;

/// <summary>
/// The two requests the store sends without the SDK, signed here with SigV4.
/// <list type="bullet">
/// <item>ListObjectsV2, its XML read by <see cref="S3ListXml"/> (or <see cref="XmlReader"/>) instead of the SDK's
/// unmarshaller. Measured on 1000-key pages: the SDK spent about 8 µs of CPU per key (8 ms a page, more than a third of a
/// 20 ms page's latency, and the bottleneck of a parallel listing on a 2-core machine); this client well under 1 µs.</item>
/// <item>UploadPart, its body handed to the socket in one write. The SDK copies a part through 8 KiB writes (some
/// 1,000 send calls per 8 MiB part), which cost more CPU than the upload itself at a few hundred MB/s.</item>
/// </list>
/// Errors come out as <see cref="AmazonS3Exception"/>s, so the store's retry and error mapping treat them as they treat the SDK's.
/// </summary>
internal sealed class S3RawClient : IDisposable
{
    private const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>The payload hash of a request whose body is not signed (SigV4's literal).</summary>
    internal const string UnsignedPayload = "UNSIGNED-PAYLOAD";

    private const int MaxErrorBody = 64 * 1024;

    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        IgnoreWhitespace = true,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        CheckCharacters = false,
    };

    private readonly OssEndpointInfo _endpoint;
    private readonly AWSCredentials _credentials;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;

    private readonly bool? _signPayload;

    // Learned from the first answers: the origin reports the CRC-64 of each part it stored (OSS does), so a part can go
    // unsigned and still be checked end to end, for a fraction of the CPU of hashing it with SHA-256.
    private volatile bool _originReportsPartCrc;

    public S3RawClient(OssEndpointInfo endpoint, AWSCredentials credentials, S3StoreOptions options, TimeProvider? time = null)
    {
        _endpoint = endpoint;
        _signPayload = options.SignPayload;
        _credentials = credentials;
        _time = time ?? TimeProvider.System;
        // No client timeout: the store's retry policy gives each attempt its own, through the cancellation token.
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.MaxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>One page, as the origin sent it (the store checks truncation and tokens).</summary>
    public async Task<ListPage> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var query = new List<(string Name, string Value)>(8)
        {
            ("list-type", "2"),
            ("encoding-type", "url"),
            ("max-keys", Math.Min(request.MaxKeys, 1000).ToString(CultureInfo.InvariantCulture)),
            ("prefix", request.Prefix),
        };
        if (!string.IsNullOrEmpty(request.Delimiter))
            query.Add(("delimiter", request.Delimiter));
        if (!string.IsNullOrEmpty(request.StartAfter))
            query.Add(("start-after", request.StartAfter));
        if (!string.IsNullOrEmpty(request.ContinuationToken))
            query.Add(("continuation-token", request.ContinuationToken));

        using var message = await SignedAsync(HttpMethod.Get, request.Bucket, key: null, query, EmptyPayloadHash).ConfigureAwait(false);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var (buffer, length) = await ReadAllAsync(body, response.IsSuccessStatusCode ? int.MaxValue : MaxErrorBody, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!response.IsSuccessStatusCode)
                throw ToException(response, buffer, length);
            return Parse(buffer, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _http.Dispose();

    // ---- signing (AWS Signature Version 4, header form) ----

    /// <summary>
    /// Whether <see cref="UploadPartAsync"/> can send this key. Dot segments ("a/../b") would be resolved by URI handling
    /// on one side or the other, so the signed path and the path the server sees would differ: such keys go through the SDK.
    /// </summary>
    public static bool CanAddress(string key)
    {
        foreach (var segment in key.AsSpan().Split('/'))
        {
            if (key.AsSpan()[segment] is "." or "..")
                return false;
        }
        return true;
    }

    /// <summary>
    /// One part of a multipart upload, the body sent as it is; returns the part's ETag. Every part's bytes are checked
    /// end to end, by one of two means. Signed: the SHA-256 of the body is in the signature and the server refuses a part
    /// changed on the way (what the SDK does over plain http). Unsigned: when the origin answers with the CRC-64 of the
    /// part it stored (OSS's <c>x-oss-hash-crc64ecma</c>), that is compared with the CRC-64 of what was sent, and a
    /// mismatch fails the attempt (sending the part number again replaces the part). With
    /// <see cref="S3StoreOptions.SignPayload"/> unset, parts are signed over http until the origin has shown it reports
    /// part CRCs, and unsigned over https (TLS protects them).
    /// </summary>
    public async Task<string> UploadPartAsync(string bucket, string key, string uploadId, int partNumber, ReadOnlyMemory<byte> content, ulong? knownCrc64, CancellationToken cancellationToken)
    {
        var query = new List<(string Name, string Value)>(2)
        {
            ("partNumber", partNumber.ToString(CultureInfo.InvariantCulture)),
            ("uploadId", uploadId),
        };
        bool sign = _signPayload ?? (_endpoint.UseHttp && !_originReportsPartCrc);
        string payloadHash = sign ? Hex(SHA256.HashData(content.Span)) : UnsignedPayload;
        using var message = await SignedAsync(HttpMethod.Put, bucket, key, query, payloadHash).ConfigureAwait(false);
        message.Content = new ReadOnlyMemoryContent(content);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var (buffer, length) = await ReadAllAsync(body, MaxErrorBody, cancellationToken).ConfigureAwait(false);
            try
            {
                throw ToException(response, buffer, length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        string etag = response.Headers.ETag?.Tag
            ?? (response.Headers.TryGetValues("ETag", out var values) ? values.First() : null)
            ?? throw new OriginProtocolException($"UploadPart {partNumber} of {bucket}/{key} answered {(int)response.StatusCode} without an ETag");
        if (response.Headers.TryGetValues(S3ObjectStore.Crc64Header, out var crcValues))
        {
            string text = crcValues.First();
            if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong stored))
                throw new OriginProtocolException($"UploadPart {partNumber} of {bucket}/{key} answered {S3ObjectStore.Crc64Header}: '{text}', which is not a CRC-64");
            ulong sent = knownCrc64 ?? Crc64Xz.Compute(content.Span);
            if (stored != sent)
                throw new IOException($"part {partNumber} of {bucket}/{key} was changed on the way: the origin stored CRC-64 {stored}, {sent} was sent");
            _originReportsPartCrc = true;
        }
        else if (!sign && _signPayload is null && _endpoint.UseHttp)
        {
            // Sent unsigned on the strength of earlier answers, and this one has no CRC: the bytes went unchecked.
            _originReportsPartCrc = false;
            throw new IOException($"part {partNumber} of {bucket}/{key} went unsigned and the origin did not report its CRC-64; sending it again, signed");
        }
        return etag;
    }

    private async Task<HttpRequestMessage> SignedAsync(HttpMethod method, string bucket, string? key, List<(string Name, string Value)> query, string payloadHash)
    {
        var service = _endpoint.ServiceUrl;
        string basePath = service.AbsolutePath.TrimEnd('/');
        string objectPath = key is null ? "/" : "/" + EncodePath(key);
        string host, path;
        if (_endpoint.ForcePathStyle)
        {
            host = service.IsDefaultPort ? service.Host : service.Authority;
            path = $"{basePath}/{bucket}{objectPath}";
        }
        else
        {
            host = (service.IsDefaultPort ? $"{bucket}.{service.Host}" : $"{bucket}.{service.Authority}");
            path = basePath + objectPath;
        }
        query.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var canonicalQuery = new StringBuilder(256);
        foreach (var (name, value) in query)
        {
            if (canonicalQuery.Length > 0)
                canonicalQuery.Append('&');
            canonicalQuery.Append(UriEncode(name)).Append('=').Append(UriEncode(value));
        }

        var credentials = await _credentials.GetCredentialsAsync().ConfigureAwait(false);
        string amzDate = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string? token = string.IsNullOrEmpty(credentials.Token) ? null : credentials.Token.Trim();
        string authorization = Authorization(method.Method, host, path, canonicalQuery.ToString(), payloadHash, amzDate, _endpoint.AuthenticationRegion,
            credentials.AccessKey, credentials.SecretKey, token);

        // The path is sent exactly as signed: no unescaping or dot-segment removal by Uri.
        var uri = new Uri($"{service.Scheme}://{host}{path}?{canonicalQuery}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var message = new HttpRequestMessage(method, uri);
        message.Headers.Host = host;
        message.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        message.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        if (token is not null)
            message.Headers.TryAddWithoutValidation("x-amz-security-token", token);
        message.Headers.TryAddWithoutValidation("Authorization", authorization);
        return message;
    }

    /// <summary>An object key as a SigV4 canonical path: each segment URI-encoded, the slashes kept.</summary>
    internal static string EncodePath(string key)
    {
        var sb = new StringBuilder(key.Length + 16);
        foreach (var segment in key.AsSpan().Split('/'))
        {
            if (segment.Start.Value > 0)
                sb.Append('/');
            sb.Append(UriEncode(key[segment]));
        }
        return sb.ToString();
    }

    /// <summary>
    /// The Authorization header of a request signed with SigV4 over host, x-amz-content-sha256, x-amz-date (and
    /// x-amz-security-token with session credentials). <paramref name="path"/> and <paramref name="canonicalQuery"/> are
    /// already encoded, the query sorted.
    /// </summary>
    internal static string Authorization(string method, string host, string path, string canonicalQuery, string payloadHash, string amzDate, string region,
        string accessKey, string secretKey, string? sessionToken)
    {
        var headers = new List<(string Name, string Value)>(4) { ("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate) };
        if (sessionToken is not null)
            headers.Add(("x-amz-security-token", sessionToken));
        return Authorization(method, path, canonicalQuery, headers, payloadHash, amzDate, region, accessKey, secretKey);
    }

    /// <summary>
    /// The same over any set of signed headers: <paramref name="headers"/> have lower-case names, sorted, and trimmed values.
    /// (The store signs only the ones above; tests sign what the SDK signed, to compare the two.)
    /// </summary>
    internal static string Authorization(string method, string path, string canonicalQuery, IReadOnlyList<(string Name, string Value)> headers,
        string payloadHash, string amzDate, string region, string accessKey, string secretKey)
    {
        string date = amzDate[..8];
        string scope = $"{date}/{region}/s3/aws4_request";
        var canonical = new StringBuilder(512)
            .Append(method).Append('\n').Append(path).Append('\n').Append(canonicalQuery).Append('\n');
        foreach (var (name, value) in headers)
            canonical.Append(name).Append(':').Append(value).Append('\n');
        string signedHeaders = string.Join(';', headers.Select(h => h.Name));
        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);

        string stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())))}";
        byte[] key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), date);
        key = Hmac(key, region);
        key = Hmac(key, "s3");
        key = Hmac(key, "aws4_request");
        string signature = Hex(Hmac(key, stringToSign));
        return $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>SigV4's URI encoding: unreserved characters as they are, every other UTF-8 byte as %XX (upper case).</summary>
    internal static string UriEncode(string value)
    {
        var sb = new StringBuilder(value.Length + 16);
        Span<byte> bytes = stackalloc byte[4];
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                sb.Append(c);
                continue;
            }
            int n = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                ? Encoding.UTF8.GetBytes(value.AsSpan(i++, 2), bytes)
                : Encoding.UTF8.GetBytes(value.AsSpan(i, 1), bytes);
            for (int k = 0; k < n; k++)
                sb.Append('%').Append(bytes[k].ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    // ---- the response ----

    private static async Task<(byte[] Buffer, int Length)> ReadAllAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        // Pooled: a 1000-key page is about 200-300 KB, which would otherwise be a large-object-heap array per page.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= limit)
                        break;
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int n = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                    break;
                length += n;
            }
            return (buffer, Math.Min(length, limit));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Reads a ListBucketResult document: with <see cref="S3ListXml"/>, or <see cref="XmlReader"/> for anything it does not take.</summary>
    internal static ListPage Parse(byte[] buffer, int length) =>
        S3ListXml.TryParse(buffer.AsSpan(0, length), out var page) ? page : ParseWithXmlReader(buffer, length);

    internal static ListPage ParseWithXmlReader(byte[] buffer, int length)
    {
        using var stream = new MemoryStream(buffer, 0, length, writable: false);
        using var reader = XmlReader.Create(stream, ReaderSettings);
        try
        {
            reader.MoveToContent();
            if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "ListBucketResult")
                throw new OriginProtocolException($"LIST answered with a <{reader.LocalName}> document instead of <ListBucketResult>");
            var entries = new List<ListEntry>(1000);
            var prefixes = new List<string>();
            bool truncated = false, urlEncoded = false;
            string? next = null;
            string lastModifiedText = "";
            DateTimeOffset lastModified = default;
            foreach (string element in ChildElements(reader))
            {
                switch (element)
                {
                    case "Contents":
                        entries.Add(ReadContents(reader, ref lastModifiedText, ref lastModified));
                        break;
                    case "CommonPrefixes":
                        string? prefix = ReadChild(reader, "Prefix");
                        if (prefix is not null)
                            prefixes.Add(prefix);
                        break;
                    case "IsTruncated":
                        truncated = string.Equals(reader.ReadElementContentAsString().Trim(), "true", StringComparison.OrdinalIgnoreCase);
                        break;
                    case "NextContinuationToken":
                        next = reader.ReadElementContentAsString();
                        break;
                    case "EncodingType":
                        urlEncoded = string.Equals(reader.ReadElementContentAsString().Trim(), "url", StringComparison.OrdinalIgnoreCase);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            if (urlEncoded)
            {
                for (int i = 0; i < entries.Count; i++)
                {
                    if (NeedsDecoding(entries[i].Key))
                        entries[i] = entries[i] with { Key = WebUtility.UrlDecode(entries[i].Key) };
                }
                for (int i = 0; i < prefixes.Count; i++)
                    prefixes[i] = NeedsDecoding(prefixes[i]) ? WebUtility.UrlDecode(prefixes[i]) : prefixes[i];
            }
            return new ListPage(entries, prefixes, truncated, string.IsNullOrEmpty(next) ? null : next);
        }
        catch (XmlException ex)
        {
            throw new OriginProtocolException($"LIST answered with malformed XML: {ex.Message}", ex);
        }
    }

    private static ListEntry ReadContents(XmlReader reader, ref string lastModifiedText, ref DateTimeOffset lastModified)
    {
        string key = "", etag = "";
        long size = 0;
        DateTimeOffset modified = default;
        foreach (string element in ChildElements(reader))
        {
            switch (element)
            {
                case "Key":
                    key = reader.ReadElementContentAsString();
                    break;
                case "ETag":
                    etag = reader.ReadElementContentAsString();
                    break;
                case "Size":
                    string sizeText = reader.ReadElementContentAsString();
                    if (!long.TryParse(sizeText.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out size))
                        throw new OriginProtocolException($"LIST answered with a Size that is not a number: '{sizeText}'");
                    break;
                case "LastModified":
                    string text = reader.ReadElementContentAsString();
                    // Keys written together share their time; parse each distinct text once.
                    if (text != lastModifiedText)
                    {
                        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out lastModified))
                            throw new OriginProtocolException($"LIST answered with a LastModified that is not a time: '{text}'");
                        lastModifiedText = text;
                    }
                    modified = lastModified;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new ListEntry(key, size, etag, modified);
    }

    // The text of one child element (for <CommonPrefixes><Prefix>...</Prefix></CommonPrefixes>); leaves the reader after the parent.
    private static string? ReadChild(XmlReader reader, string child)
    {
        string? value = null;
        foreach (string element in ChildElements(reader))
        {
            if (element == child)
                value = reader.ReadElementContentAsString();
            else
                reader.Skip();
        }
        return value;
    }

    /// <summary>
    /// The names of the current element's child elements, with the reader on each in turn; the caller consumes each one
    /// (reads its content or skips it) before asking for the next. Ends with the reader after the parent element.
    /// </summary>
    private static IEnumerable<string> ChildElements(XmlReader reader)
    {
        if (reader.IsEmptyElement)
        {
            reader.Read();
            yield break;
        }
        int depth = reader.Depth;
        reader.Read();
        while (!reader.EOF && !(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            if (reader.NodeType == XmlNodeType.Element)
                yield return reader.LocalName;
            else
                reader.Read();
        }
        reader.Read();
    }

    private static bool NeedsDecoding(string value) => S3ListXml.NeedsDecoding(value);

    private static AmazonS3Exception ToException(HttpResponseMessage response, byte[] buffer, int length)
    {
        string code = "", message = "", requestId = "";
        try
        {
            using var stream = new MemoryStream(buffer, 0, length, writable: false);
            using var reader = XmlReader.Create(stream, ReaderSettings);
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                    continue;
                switch (reader.LocalName)
                {
                    case "Code": code = reader.ReadElementContentAsString(); break;
                    case "Message": message = reader.ReadElementContentAsString(); break;
                    case "RequestId": requestId = reader.ReadElementContentAsString(); break;
                }
            }
        }
        catch (XmlException)
        {
            // A body that is not an S3 error document: the status says enough.
        }
        var status = response.StatusCode;
        if (code.Length == 0)
            code = status.ToString();
        var type = (int)status >= 500 ? ErrorType.Receiver : ErrorType.Sender;
        return new AmazonS3Exception(message.Length > 0 ? message : $"HTTP {(int)status} {response.ReasonPhrase}", type, code, requestId, status);
    }
}
