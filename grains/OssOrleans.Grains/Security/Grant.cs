namespace OssOrleans.Grains.Security;

/// <summary>What a grant allows.</summary>
[Flags]
public enum AccessVerbs
{
    None = 0,

    /// <summary>Read objects: metadata, bytes, prefetch and warm.</summary>
    Read = 1,

    /// <summary>List keys.</summary>
    List = 2,

    /// <summary>Write objects: uploads, copies, deletes (through the S3 gateway).</summary>
    Write = 4,

    /// <summary>Administer: the admin API and dashboards (on <c>oss://*</c>), buckets (on a bucket name).</summary>
    Admin = 8,
}

/// <summary>
/// One grant: <see cref="Verbs"/> on the keys of <see cref="Bucket"/> (<c>*</c>: every bucket) that start with
/// <see cref="Prefix"/>. Prefixes are plain string prefixes, as in S3 policies: <c>team-a/</c> covers <c>team-a/x</c>, not
/// <c>team-ab/x</c>; write the trailing '/'.
/// </summary>
public sealed record Grant(string Bucket, string Prefix, AccessVerbs Verbs)
{
    public const string AnyBucket = "*";

    public bool CoversBucket(string bucket) => Bucket == AnyBucket || Bucket == bucket;

    /// <summary>True when the grant allows <paramref name="verb"/> on key <paramref name="key"/> of <paramref name="bucket"/>.</summary>
    public bool Allows(AccessVerbs verb, string bucket, string key) =>
        (Verbs & verb) == verb && CoversBucket(bucket) && key.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// Parses <c>"verbs oss://bucket/prefix"</c> (see <see cref="TenantOptions.Grants"/>). Throws <see cref="FormatException"/>
    /// saying what is wrong.
    /// </summary>
    public static Grant Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // The verbs are everything before the location (which starts with a scheme), so "read, write oss://b/" parses too.
        // Prefixes may hold spaces: the location starts at its scheme.
        string trimmed = text.Trim();
        int at = trimmed.IndexOf(" oss://", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
            at = trimmed.IndexOf(" s3://", StringComparison.OrdinalIgnoreCase);
        string[] parts = at <= 0 ? [trimmed] : [trimmed[..at].Trim(), trimmed[(at + 1)..]];
        if (parts.Length != 2 || parts[0].Length == 0)
            throw new FormatException($"grant '{text}' is not 'verbs oss://bucket/prefix'");
        var verbs = AccessVerbs.None;
        foreach (var v in parts[0].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            verbs |= v.ToLowerInvariant() switch
            {
                "read" => AccessVerbs.Read,
                "list" => AccessVerbs.List,
                "write" => AccessVerbs.Write,
                "admin" => AccessVerbs.Admin,
                _ => throw new FormatException($"grant '{text}': unknown verb '{v}' (read, list, write, admin)"),
            };
        }
        if (verbs == AccessVerbs.None)
            throw new FormatException($"grant '{text}' names no verb");
        string where = parts[1];
        foreach (var scheme in new[] { "oss://", "s3://" })
        {
            if (!where.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
                continue;
            string rest = where[scheme.Length..];
            if (rest is AnyBucket or AnyBucket + "/")
                return new Grant(AnyBucket, "", verbs);
            if (!ObjectUri.TryParse(where, out var uri))
                throw new FormatException($"grant '{text}': '{where}' is not a valid oss://bucket/prefix");
            return new Grant(uri.Bucket, uri.Key, verbs);
        }
        throw new FormatException($"grant '{text}': '{where}' is not oss://bucket/prefix or oss://*");
    }

    public override string ToString() => $"{Verbs} oss://{Bucket}/{Prefix}";
}
