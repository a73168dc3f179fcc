namespace OssOrleans.Gateway.Protocol;

/// <summary>One Deleted entry of DeleteResult.</summary>
internal sealed record DeletedObject(string Key)
{
    public string? VersionId { get; init; }

    public bool DeleteMarker { get; init; }

    public string? DeleteMarkerVersionId { get; init; }
}
