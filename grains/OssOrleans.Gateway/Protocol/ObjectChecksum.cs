namespace OssOrleans.Gateway.Protocol;

/// <summary>An object's or part's additional checksum: the algorithm and the value as S3 writes it (base64).</summary>
internal readonly record struct ObjectChecksum(ChecksumAlgorithm Algorithm, string Base64);
