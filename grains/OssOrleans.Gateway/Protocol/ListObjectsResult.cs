namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// One page of ListObjects (v1) or ListObjectsV2, as the request asked for it and the store answered. The request's
/// own values are echoed (<see cref="Prefix"/>, <see cref="Delimiter"/>, <see cref="MaxKeys"/>, the marker or token);
/// <see cref="UrlEncoded"/> is true when the request carried <c>encoding-type=url</c>.
/// </summary>
internal sealed record ListObjectsResult(string Bucket, string Prefix, string? Delimiter, int MaxKeys, bool IsTruncated,
    IReadOnlyList<ListedObject> Objects, IReadOnlyList<string> CommonPrefixes)
{
    public bool UrlEncoded { get; init; }

    // ---- v2 ----

    public string? ContinuationToken { get; init; }

    /// <summary>Written when <see cref="IsTruncated"/>: the token the client sends back for the next page.</summary>
    public string? NextContinuationToken { get; init; }

    public string? StartAfter { get; init; }

    // ---- v1 ----

    public string? Marker { get; init; }

    /// <summary>
    /// v1 only, and as S3 does only with a delimiter on a truncated page (without one, clients continue from the last
    /// key). When null there, the larger of the last key and the last common prefix is written.
    /// </summary>
    public string? NextMarker { get; init; }
}
