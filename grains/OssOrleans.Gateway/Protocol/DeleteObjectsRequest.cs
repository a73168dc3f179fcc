namespace OssOrleans.Gateway.Protocol;

/// <summary>A DeleteObjects request body: the keys, and whether the answer lists only the failures (Quiet).</summary>
internal sealed record DeleteObjectsRequest(bool Quiet, IReadOnlyList<ObjectIdentifier> Objects);
