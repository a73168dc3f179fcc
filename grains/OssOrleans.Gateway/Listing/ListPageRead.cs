namespace OssOrleans.Gateway.Listing;

/// <summary>One page read from a listing: the items, whether more follow, and the cursor to continue with when they do.</summary>
internal sealed record ListPageRead(IReadOnlyList<ObjectEntry> Items, bool IsTruncated, ListCursor? Cursor);
