namespace OssOrleans.Storage;

/// <summary>Base of every error the origin layer raises on purpose. Messages name the store, bucket and key, never credentials.</summary>
public class ObjectStoreException : Exception
{
    public ObjectStoreException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The object (or bucket) does not exist.</summary>
public sealed class ObjectNotFoundException(string bucket, string key, Exception? inner = null)
    : ObjectStoreException($"object not found: {bucket}/{key}", inner)
{
    public string Bucket { get; } = bucket;
    public string Key { get; } = key;
}

/// <summary>The object changed: it no longer has the ETag the read asked for (HTTP 412).</summary>
public sealed class PreconditionFailedException(string bucket, string key, string etag, Exception? inner = null)
    : ObjectStoreException($"object {bucket}/{key} no longer has ETag {etag}", inner)
{
    public string ETag { get; } = etag;
}

/// <summary>A create-only write found the object already there.</summary>
public sealed class ObjectAlreadyExistsException(string bucket, string key, Exception? inner = null)
    : ObjectStoreException($"object already exists: {bucket}/{key}", inner);

/// <summary>
/// The origin answered a ranged read with something other than exactly the range asked for:
/// a wrong status, a wrong Content-Range, or a body of the wrong length. The bytes are discarded.
/// </summary>
public sealed class OriginProtocolException(string message, Exception? inner = null) : ObjectStoreException(message, inner);

/// <summary>The origin could not be reached or kept failing after the retries allowed.</summary>
public sealed class OriginUnavailableException(string message, Exception? inner = null) : ObjectStoreException(message, inner);

/// <summary>Credentials are missing, unreadable or expired. The message says which source was tried, never a secret.</summary>
public sealed class CredentialsException(string message, Exception? inner = null) : ObjectStoreException(message, inner);
