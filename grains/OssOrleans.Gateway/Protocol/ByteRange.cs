namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// A satisfiable byte range of an object: <see cref="Start"/> and <see cref="Length"/> (at least 1);
/// <see cref="End"/> is inclusive, as in HTTP's Range and Content-Range.
/// </summary>
internal readonly record struct ByteRange(long Start, long Length)
{
    public long End => Start + Length - 1;

    /// <summary>The Content-Range of a 206 answer: "bytes start-end/size".</summary>
    public string ContentRange(long size) => $"bytes {Start}-{End}/{size}";

    /// <summary>The Content-Range of a 416 answer: "bytes */size".</summary>
    public static string UnsatisfiedContentRange(long size) => $"bytes */{size}";
}
