using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Cache;
using OssOrleans.Storage;

namespace OssOrleans.Gateway.Writing;

/// <summary>
/// <c>If-Match</c> on a write: the object must exist with one of the ETags given ("*": exist at all), checked with a HEAD
/// at the origin (not the cache) just before the write is committed. A writer that changes the object between that HEAD
/// and the commit still wins; S3 itself checks atomically (see the README). Create-only writes are checked by the origin.
/// </summary>
internal sealed class WriteConditions(IObjectStore origin, OriginGate gate)
{
    public async Task CheckIfMatchAsync(string bucket, string key, string ifMatch, CancellationToken cancellationToken)
    {
        ObjectMetadata current;
        try
        {
            using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
                current = await origin.HeadAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectNotFoundException or ArgumentException)
        {
            throw S3Errors.NoSuchKey().ToException();
        }
        foreach (string candidate in ifMatch.Split(','))
        {
            string etag = candidate.Trim();
            if (etag == "*" || (etag.Length > 0 && StoreKeys.ETagEquals(etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag, current.ETag)))
                return;
        }
        throw S3Errors.PreconditionFailed().ToException();
    }
}
