using System.Globalization;

namespace OssOrleans.Grains.Security;

/// <summary>
/// Receipts for staged shards (<see cref="StagedShard"/>): the staging silo signs, with the cluster's receipt key, that it
/// received these bytes for this part of this upload of this object, holds them under this handle, and that the origin
/// accepted the part with this ETag. The upload grain and the shard grain check the signature before they believe any of it.
/// </summary>
internal static class StageReceipts
{
    public static StagedShard Sign(ClusterKeys keys, UploadClaims upload, int shardInPart, string silo, string dataPlane, long handle, int length,
        ulong crc64, int partNumber, string partETag, long partLength)
    {
        var unsigned = new StagedShard(shardInPart, silo, dataPlane, handle, length, crc64, partNumber, partETag, partLength, "");
        return unsigned with { Mac = ClusterKeys.Mac(keys.StageReceipt, Text(upload, unsigned)) };
    }

    /// <summary>True when this cluster signed <paramref name="receipt"/> for <paramref name="upload"/>.</summary>
    public static bool Verify(ClusterKeys keys, UploadClaims upload, StagedShard receipt) =>
        ClusterKeys.Verify(keys.StageReceipt, Text(upload, receipt), receipt.Mac);

    // Length-prefixed fields: keys and ETags may contain any character.
    private static string Text(UploadClaims u, StagedShard r) => string.Join("\n",
        "OSSORLEANS-STAGE-V1", Field(u.Bucket), Field(u.Key), Field(u.UploadId), u.ShardSize.ToString(CultureInfo.InvariantCulture),
        r.ShardInPart.ToString(CultureInfo.InvariantCulture), Field(r.Silo), Field(r.DataPlane),
        r.Handle.ToString(CultureInfo.InvariantCulture), r.Length.ToString(CultureInfo.InvariantCulture), r.Crc64.ToString(CultureInfo.InvariantCulture),
        r.PartNumber.ToString(CultureInfo.InvariantCulture), Field(r.PartETag), r.PartLength.ToString(CultureInfo.InvariantCulture));

    private static string Field(string s) => s.Length.ToString(CultureInfo.InvariantCulture) + ":" + s;
}
