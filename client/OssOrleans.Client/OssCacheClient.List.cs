using OssOrleans.Client.Listing;

namespace OssOrleans.Client;

public sealed partial class OssCacheClient
{
    /// <summary>
    /// Lists the objects under a prefix (<c>oss://bucket/prefix</c>; an empty prefix lists the bucket), streaming: memory
    /// stays bounded by <see cref="ListOptions.Concurrency"/> batches however many entries there are. A fast list (the
    /// default) returns exactly the entries a plain list returns, in any order unless <see cref="ListOptions.Sorted"/>.
    /// Throws <see cref="OriginFailedException"/> when the origin fails or its paging would never end (a truncated page
    /// without a continuation token, or a repeated token), and <see cref="OssObjectNotFoundException"/> for a missing bucket.
    /// </summary>
    public IAsyncEnumerable<ObjectEntry> ListAsync(string uri, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        ListAsync(ObjectUri.Parse(uri), options, cancellationToken);

    /// <inheritdoc cref="ListAsync(string, ListOptions?, CancellationToken)"/>
    public IAsyncEnumerable<ObjectEntry> ListAsync(ObjectUri prefix, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ListOptions();
        options.Validate();
        var root = ListPartitionKey.Root(prefix, options.Delimiter, options.Fast);
        var reader = new PartitionReader(Cluster, options.OnResume);
        if (!options.Fast)
            return PlainList.ReadAsync(reader, root, options, cancellationToken);
        return options.Sorted
            ? SortedFastList.ReadAsync(reader, root, options, cancellationToken)
            : UnsortedFastList.ReadAsync(reader, root, options, cancellationToken);
    }
}
