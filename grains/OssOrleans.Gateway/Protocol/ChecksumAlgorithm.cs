namespace OssOrleans.Gateway.Protocol;

/// <summary>The additional checksums S3 accepts on uploads (<c>x-amz-checksum-*</c>).</summary>
internal enum ChecksumAlgorithm
{
    Crc32,
    Crc32C,
    Crc64Nvme,
    Sha1,
    Sha256,
}
