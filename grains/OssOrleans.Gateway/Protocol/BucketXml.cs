namespace OssOrleans.Gateway.Protocol;

/// <summary>ListAllMyBucketsResult (ListBuckets) and LocationConstraint (GetBucketLocation).</summary>
internal static class BucketXml
{
    public static async Task WriteListAllMyBucketsAsync(Stream output, S3Owner owner, IReadOnlyList<BucketEntry> buckets,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(buckets);
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "ListAllMyBucketsResult").ConfigureAwait(false);
        await S3Xml.WriteOwnerAsync(writer, "Owner", owner).ConfigureAwait(false);
        await writer.WriteStartElementAsync(null, "Buckets", null).ConfigureAwait(false);
        foreach (var bucket in buckets)
        {
            await writer.WriteStartElementAsync(null, "Bucket", null).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "Name", bucket.Name).ConfigureAwait(false);
            await S3Xml.WriteElementAsync(writer, "CreationDate", S3Xml.FormatTime(bucket.CreationDate)).ConfigureAwait(false);
            if (bucket.Region is not null)
                await S3Xml.WriteElementAsync(writer, "BucketRegion", bucket.Region).ConfigureAwait(false);
            await writer.WriteEndElementAsync().ConfigureAwait(false);
        }
        await writer.WriteEndElementAsync().ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The bucket's region; S3 answers us-east-1 with an empty element, and clients (botocore) read an empty one as
    /// us-east-1, so <paramref name="region"/> null or "us-east-1" writes it empty.
    /// </summary>
    public static async Task WriteLocationConstraintAsync(Stream output, string? region, CancellationToken cancellationToken = default)
    {
        await using var writer = S3Xml.CreateWriter(output);
        await S3Xml.StartAsync(writer, "LocationConstraint").ConfigureAwait(false);
        if (!string.IsNullOrEmpty(region) && region != "us-east-1")
            await writer.WriteStringAsync(region).ConfigureAwait(false);
        await S3Xml.EndAsync(writer, cancellationToken).ConfigureAwait(false);
    }
}
