namespace OssOrleans.Gateway.Protocol;

/// <summary>One Object of a DeleteObjects request: the key as sent (validate it per key), and a version if one was named.</summary>
internal sealed record ObjectIdentifier(string Key, string? VersionId);
