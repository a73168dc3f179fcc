using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Cache;
using OssOrleans.Storage;

namespace OssOrleans.Gateway;

/// <summary>
/// The bucket operations: ListBuckets (only buckets the tenant has a grant on), HeadBucket, GetBucketLocation, and
/// CreateBucket and DeleteBucket, which are passed to the origin for a tenant with an admin grant on that bucket name (the
/// origin decides; its refusal keeps its S3 error code).
/// </summary>
internal sealed class BucketHandler(IObjectStore origin, OriginGate gate, BodyReader bodies, IOptions<GatewayOptions> options)
{
    // A CreateBucketConfiguration is a few hundred bytes; nothing in it is acted on (the origin's endpoint decides the region).
    private const int MaxCreateBody = 64 * 1024;

    public async Task ListBucketsAsync(S3Exchange exchange)
    {
        var tenant = exchange.Tenant!;
        IReadOnlyList<BucketInfo> all = [];
        // A tenant without grants sees no bucket, and costs the origin nothing to tell.
        if (tenant.Grants.Count > 0)
        {
            using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                all = await origin.ListBucketsAsync(exchange.Aborted).ConfigureAwait(false);
        }
        var visible = all.Where(b => tenant.Grants.Any(g => g.CoversBucket(b.Name))).Select(b => new BucketEntry(b.Name, b.CreationDate)).ToList();
        S3Responses.Xml(exchange);
        await BucketXml.WriteListAllMyBucketsAsync(exchange.Response.Body, new S3Owner(tenant.Id, tenant.Id), visible, exchange.Aborted).ConfigureAwait(false);
    }

    public async Task HeadBucketAsync(S3Exchange exchange)
    {
        await RequireBucketAsync(exchange).ConfigureAwait(false);
        exchange.Response.Headers["x-amz-bucket-region"] = options.Value.Region;
        S3Responses.Empty(exchange, StatusCodes.Status200OK);
    }

    public async Task GetBucketLocationAsync(S3Exchange exchange)
    {
        await RequireBucketAsync(exchange).ConfigureAwait(false);
        S3Responses.Xml(exchange);
        await BucketXml.WriteLocationConstraintAsync(exchange.Response.Body, options.Value.Region, exchange.Aborted).ConfigureAwait(false);
    }

    public async Task CreateBucketAsync(S3Exchange exchange)
    {
        if (exchange.Request.Headers.ContainsKey("x-amz-bucket-object-lock-enabled"))
            throw S3Errors.NotImplemented("This gateway does not create buckets with object lock.").ToException();
        await bodies.DrainAsync(exchange, MaxCreateBody).ConfigureAwait(false);
        using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
            await origin.CreateBucketAsync(exchange.Bucket, exchange.Aborted).ConfigureAwait(false);
        exchange.Response.Headers.Location = "/" + exchange.Bucket;
        S3Responses.Empty(exchange, StatusCodes.Status200OK);
    }

    public async Task DeleteBucketAsync(S3Exchange exchange)
    {
        try
        {
            using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
                await origin.DeleteBucketAsync(exchange.Bucket, exchange.Aborted).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            throw S3Errors.NoSuchBucket().ToException();
        }
        S3Responses.Empty(exchange, StatusCodes.Status204NoContent);
    }

    /// <summary>Throws NoSuchBucket when the bucket is not at the origin.</summary>
    public Task RequireBucketAsync(S3Exchange exchange) => RequireBucketAsync(exchange, exchange.Bucket);

    private async Task RequireBucketAsync(S3Exchange exchange, string bucket)
    {
        bool exists;
        using (await gate.EnterAsync(exchange.Aborted).ConfigureAwait(false))
            exists = await origin.BucketExistsAsync(bucket, exchange.Aborted).ConfigureAwait(false);
        if (!exists)
            throw S3Errors.NoSuchBucket().ToException();
    }

    /// <summary>NoSuchBucket when the bucket is missing, else NoSuchKey: what S3 answers for an object that is not there.</summary>
    public async Task<S3Error> MissingObjectErrorAsync(S3Exchange exchange, string bucket)
    {
        try
        {
            await RequireBucketAsync(exchange, bucket).ConfigureAwait(false);
        }
        catch (S3ProtocolException e)
        {
            return e.Error;
        }
        catch (NotSupportedException)
        {
        }
        return S3Errors.NoSuchKey();
    }
}
