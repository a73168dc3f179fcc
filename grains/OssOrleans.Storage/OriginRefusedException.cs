namespace OssOrleans.Storage;

/// <summary>
/// The origin refused a request for a reason of its own that the caller should hear as the origin said it: an S3 error
/// code (<c>BucketNotEmpty</c>, <c>BucketAlreadyExists</c>, <c>BucketAlreadyOwnedByYou</c>, <c>AccessDenied</c>...) and the
/// HTTP status that came with it. Used where the origin decides (bucket creation and deletion).
/// </summary>
public sealed class OriginRefusedException(int statusCode, string code, string message, Exception? inner = null)
    : ObjectStoreException(message, inner)
{
    public int StatusCode { get; } = statusCode;

    public string Code { get; } = code;
}
