using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// A tiny S3 endpoint on loopback, made of the gateway's protocol pieces over an in-memory store, for real clients
/// (AWSSDK.S3, boto3, the AWS CLI) to talk to. It records every request raw (method, target, headers, body as
/// received), so tests can replay what a client really sent through the verifier and decoder, changed or not.
/// </summary>
internal sealed class RecordingS3Server : IAsyncDisposable
{
    public const string AccessKeyId = "OSSGATEWAYTESTKEY01";
    public const string Secret = "gateway/Test+Secret/0123456789abcdefghijk";

    private static readonly DateTimeOffset Modified = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;
    private readonly SigV4Verifier _verifier = new(Lookup);
    private readonly S3AddressResolver _resolver = new(["localhost"]);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<int, byte[]>> _uploads = new();

    private RecordingS3Server(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>"bucket/key" to content.</summary>
    public ConcurrentDictionary<string, byte[]> Objects { get; } = new();

    public static string? Lookup(string accessKeyId) => accessKeyId == AccessKeyId ? Secret : null;

    public static async Task<RecordingS3Server> StartAsync(bool https = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options =>
        {
            options.Limits.MaxRequestBodySize = null;
            options.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (https)
                    listen.UseHttps(SelfSignedCertificate());
            });
        });
        var app = builder.Build();
        RecordingS3Server? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server = new RecordingS3Server(app, new Uri(address.Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1")));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var headers = new HeaderDictionary();
        foreach (var (name, values) in request.Headers)
            headers[name] = values;
        var recorded = new RecordedRequest(request.Method, context.Features.Get<IHttpRequestFeature>()!.RawTarget, headers, body.ToArray(), request.ContentLength);
        Requests.Enqueue(recorded);

        S3Error? error;
        try
        {
            error = await ServeAsync(context, recorded);
        }
        catch (S3ProtocolException e)
        {
            error = e.Error;
        }
        recorded.Error = error;
        if (error is not null && !context.Response.HasStarted)
        {
            context.Response.StatusCode = error.StatusCode;
            if (request.Method != "HEAD")
            {
                context.Response.ContentType = "application/xml";
                await ErrorXml.WriteAsync(context.Response.Body, error, null, "test-request", "test-host");
            }
        }
    }

    private async Task<S3Error?> ServeAsync(HttpContext context, RecordedRequest recorded)
    {
        if (!S3RequestHead.TryCreate(recorded.Method, recorded.RawTarget, recorded.Headers, out var head, out var error))
            return error;
        var outcome = _verifier.Verify(head, DateTimeOffset.UtcNow);
        recorded.Outcome = outcome;
        if (!outcome.IsAuthenticated)
            return outcome.Error ?? S3Errors.AccessDenied();
        if (!_resolver.TryResolve(head, out var target, out error) || !S3OperationClassifier.TryClassify(head, target, out var operation, out error))
            return error;
        recorded.Operation = operation;
        var response = context.Response;
        string objectKey = target.Bucket + "/" + target.Key;

        switch (operation)
        {
            case S3Operation.PutObject:
            case S3Operation.UploadPart:
            {
                if (!S3RequestBody.TryOpen(new MemoryStream(recorded.Body), recorded.Headers, recorded.ContentLength, outcome.Authentication, out var stream, out error))
                    return error;
                var data = new MemoryStream();
                await stream.CopyToAsync(data);
                recorded.Decoded = data.ToArray();
                if (operation == S3Operation.PutObject)
                    Objects[objectKey] = recorded.Decoded;
                else
                    _uploads.GetOrAdd(head.Query["uploadId"]!, _ => new())[int.Parse(head.Query["partNumber"]!)] = recorded.Decoded;
                response.Headers.ETag = ETagOf(recorded.Decoded);
                if (stream.ChecksumAlgorithm is { } algorithm)
                    response.Headers[S3Checksum.HeaderName(algorithm)] = stream.ChecksumBase64;
                return null;
            }
            case S3Operation.CreateMultipartUpload:
            {
                string uploadId = Guid.NewGuid().ToString("N");
                _uploads[uploadId] = new();
                response.ContentType = "application/xml";
                await MultipartXml.WriteInitiateAsync(response.Body, target.Bucket!, target.Key!, uploadId);
                return null;
            }
            case S3Operation.CompleteMultipartUpload:
            {
                var parts = await CompleteMultipartUploadReader.ReadAsync(new MemoryStream(recorded.Body));
                if (!_uploads.TryRemove(head.Query["uploadId"]!, out var uploaded))
                    return S3Errors.NoSuchUpload();
                var content = new MemoryStream();
                foreach (var part in parts)
                {
                    if (!uploaded.TryGetValue(part.PartNumber, out byte[]? bytes) || part.ETag != ETagOf(bytes))
                        return S3Errors.InvalidPart();
                    content.Write(bytes);
                }
                Objects[objectKey] = content.ToArray();
                response.ContentType = "application/xml";
                await MultipartXml.WriteCompleteAsync(response.Body, $"{Endpoint}{target.Bucket}/{target.Key}", target.Bucket!, target.Key!,
                    $"{Convert.ToHexStringLower(MD5.HashData(content.ToArray()))}-{parts.Count}");
                return null;
            }
            case S3Operation.GetObject:
            case S3Operation.HeadObject:
            {
                if (!Objects.TryGetValue(objectKey, out byte[]? content))
                    return S3Errors.NoSuchKey();
                switch (S3Preconditions.Evaluate(recorded.Headers, ETagOf(content), Modified, isGetOrHead: true))
                {
                    case PreconditionResult.NotModified:
                        response.StatusCode = 304;
                        return null;
                    case PreconditionResult.PreconditionFailed:
                        return S3Errors.PreconditionFailed();
                }
                if (!ResponseOverrides.TryRead(head.Query, authenticated: true, out var overrides, out error))
                    return error;
                var range = RangeRequest.Evaluate(recorded.Headers.Range, content.Length);
                if (range.Outcome == RangeOutcome.Unsatisfiable)
                {
                    response.Headers.ContentRange = ByteRange.UnsatisfiedContentRange(content.Length);
                    return S3Errors.InvalidRange();
                }
                response.Headers.ETag = ETagOf(content);
                response.Headers.LastModified = Modified.ToString("r");
                response.Headers.AcceptRanges = "bytes";
                response.ContentType = "application/octet-stream";
                foreach (var (name, value) in overrides)
                    response.Headers[name] = value;
                var bytes = content.AsMemory();
                if (range.Outcome == RangeOutcome.Partial)
                {
                    response.StatusCode = 206;
                    response.Headers.ContentRange = range.Range.ContentRange(content.Length);
                    bytes = bytes.Slice((int)range.Range.Start, (int)range.Range.Length);
                }
                response.ContentLength = bytes.Length;
                if (operation == S3Operation.GetObject)
                    await response.Body.WriteAsync(bytes);
                return null;
            }
            case S3Operation.ListObjectsV2:
            {
                string prefix = head.Query["prefix"] ?? "";
                string? delimiter = head.Query["delimiter"];
                var objects = new List<ListedObject>();
                var prefixes = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var (key, content) in Objects.Where(o => o.Key.StartsWith(target.Bucket + "/", StringComparison.Ordinal))
                    .Select(o => (Key: o.Key[(target.Bucket!.Length + 1)..], o.Value)).Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal))
                    .OrderBy(o => o.Key, StringComparer.Ordinal))
                {
                    int cut = string.IsNullOrEmpty(delimiter) ? -1 : key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                    if (cut >= 0)
                        prefixes.Add(key[..(cut + delimiter!.Length)]);
                    else
                        objects.Add(new ListedObject(key, Modified, ETagOf(content), content.Length));
                }
                response.ContentType = "application/xml";
                await ListObjectsXml.WriteV2Async(response.Body, new ListObjectsResult(target.Bucket!, prefix, delimiter, 1000, false, objects, [.. prefixes])
                {
                    UrlEncoded = head.Query["encoding-type"] == "url",
                });
                return null;
            }
            case S3Operation.DeleteObject:
                Objects.TryRemove(objectKey, out _);
                response.StatusCode = 204;
                return null;
            case S3Operation.AbortMultipartUpload:
                _uploads.TryRemove(head.Query["uploadId"]!, out _);
                response.StatusCode = 204;
                return null;
            case S3Operation.HeadBucket:
            case S3Operation.CreateBucket:
                return null;
            default:
                return S3Errors.NotImplemented();
        }
    }

    private static string ETagOf(byte[] content) => "\"" + Convert.ToHexStringLower(MD5.HashData(content)) + "\"";

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
