using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.Gateway;

/// <summary>
/// Opens request bodies with every check their headers ask for (<see cref="S3RequestBody"/>), bounded: the decoded size
/// against the operation's limit before a byte is read, the bytes on the wire against that plus the aws-chunked framing,
/// and the time each part of the body may take (<see cref="GatewayOptions.BodyTimeout"/>).
/// </summary>
internal sealed class BodyReader(IOptions<GatewayOptions> options)
{
    public TimeSpan Timeout { get; } = options.Value.BodyTimeout;

    /// <summary>The body, checked, or throws the S3 error; <see cref="S3Errors.EntityTooLarge"/> past <paramref name="maxDecoded"/>.</summary>
    public S3BodyStream Open(S3Exchange exchange, long maxDecoded)
    {
        var request = exchange.Request;
        if (!S3RequestBody.TryOpen(request.Body, request.Headers, request.ContentLength, exchange.Signature, out var body, out var error,
                signatureUnchecked: exchange.SignatureUnchecked))
        {
            throw error.ToException();
        }
        if (body.DecodedLength > maxDecoded)
        {
            body.Dispose();
            throw S3Errors.EntityTooLarge().ToException();
        }
        // aws-chunked framing adds under 100 bytes per chunk of at least 8 KiB.
        long wire = body.DecodedLength + body.DecodedLength / 64 + 64 * 1024;
        var limit = exchange.Http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (limit is { IsReadOnly: false })
            limit.MaxRequestBodySize = wire;
        return body;
    }

    /// <summary>Reads and checks a body that carries nothing the gateway uses (CreateBucket's configuration).</summary>
    public async Task DrainAsync(S3Exchange exchange, int maxDecoded)
    {
        // No body at all (no Content-Length, no chunked transfer), or an empty one: nothing to check.
        bool canHaveBody = exchange.Http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        if ((!canHaveBody || exchange.Request.ContentLength is 0) && !exchange.Request.Headers.ContainsKey("x-amz-decoded-content-length"))
            return;
        using var body = Open(exchange, maxDecoded);
        byte[] scratch = new byte[8192];
        await WithTimeoutAsync(exchange, async ct =>
        {
            while (await body.ReadAsync(scratch, ct).ConfigureAwait(false) > 0)
            {
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Runs a read of (part of) a body with the body timeout; a timeout is <see cref="BodyTimeoutException"/>.</summary>
    public async Task WithTimeoutAsync(S3Exchange exchange, Func<CancellationToken, Task> read)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(exchange.Aborted);
        timeout.CancelAfter(Timeout);
        try
        {
            await read(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !exchange.Aborted.IsCancellationRequested)
        {
            throw new BodyTimeoutException(Timeout);
        }
    }

    /// <summary>Like <see cref="WithTimeoutAsync"/>, with a result.</summary>
    public async Task<T> WithTimeoutAsync<T>(S3Exchange exchange, Func<CancellationToken, Task<T>> read)
    {
        T result = default!;
        // A statement lambda: an expression one would return T and call this overload again.
        await WithTimeoutAsync(exchange, async ct => { result = await read(ct).ConfigureAwait(false); }).ConfigureAwait(false);
        return result;
    }
}
