using OssOrleans.Storage;

namespace OssOrleans.Grains.Cache;

/// <summary>
/// The one translation of origin errors (<see cref="ObjectStoreException"/> and its kinds) into the exceptions callers
/// see across the wire, so every grain reports the same condition the same way. Anything that is not an origin error
/// passes through unchanged.
/// </summary>
internal static class OriginErrors
{
    /// <param name="ex">What the origin layer threw.</param>
    /// <param name="uri">The object (or prefix) it was about.</param>
    /// <param name="action">What was being done, for the message of a plain failure ("reading shard 3 of", "listing").</param>
    public static Exception ToWire(Exception ex, ObjectUri uri, string action) => ex switch
    {
        PreconditionFailedException p => new ObjectChangedException($"{uri} changed at the origin: version {p.ETag} is gone"),
        ObjectNotFoundException => new OssObjectNotFoundException(uri.Key.Length == 0 || uri.Key.EndsWith('/')
            ? $"the bucket {uri.Bucket} does not exist at the origin"
            : $"{uri} does not exist at the origin"),
        ObjectAlreadyExistsException => new OssObjectExistsException($"{uri} already exists (create-only write)"),
        ObjectStoreException => new OriginFailedException($"{action} {uri} failed: {ex.Message}"),
        // The range asked for lies outside the object: the caller's idea of its size is wrong.
        ArgumentOutOfRangeException => new ArgumentException($"{action} {uri}: {ex.Message}"),
        _ => ex,
    };
}
