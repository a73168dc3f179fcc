namespace OssOrleans.Storage;

/// <summary>A bucket as the origin lists it.</summary>
public sealed record BucketInfo(string Name, DateTimeOffset CreationDate);
