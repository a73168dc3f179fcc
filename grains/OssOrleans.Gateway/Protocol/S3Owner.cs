namespace OssOrleans.Gateway.Protocol;

/// <summary>An Owner or Initiator element: ID and, optionally, DisplayName.</summary>
internal sealed record S3Owner(string Id, string? DisplayName = null);
