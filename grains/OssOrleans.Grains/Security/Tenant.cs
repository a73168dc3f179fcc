using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OssOrleans.Grains.Security;

/// <summary>How much of a listing a tenant may see.</summary>
public enum ListVisibility
{
    /// <summary>Nothing: the listing is refused.</summary>
    None,

    /// <summary>Some keys: the listing is filtered to what the tenant's grants cover.</summary>
    Partial,

    /// <summary>Everything under the prefix.</summary>
    Full,
}

/// <summary>
/// An authenticated tenant: its access key id, the key its calls are signed with, its grants. The secret stays in memory
/// for the S3 gateway's SigV4 checks (which need the secret itself) and is never logged or returned.
/// </summary>
public sealed class Tenant
{
    internal Tenant(string id, string? secret, IReadOnlyList<Grant> grants)
    {
        Id = id;
        Secret = secret;
        CallKey = secret is null ? [] : CallProof.DeriveKey(secret);
        Grants = grants;
        Tag = TagOf(id);
        IsClusterAdmin = grants.Any(g => g.Bucket == Grant.AnyBucket && (g.Verbs & AccessVerbs.Admin) != 0);
    }

    /// <summary>Every verb on every bucket: the one tenant of an anonymous (loopback, tenant-less) cluster.</summary>
    public static Tenant Anonymous { get; } = new(CallProof.AnonymousTenant, null,
        [new Grant(Grant.AnyBucket, "", AccessVerbs.Read | AccessVerbs.List | AccessVerbs.Write | AccessVerbs.Admin)]);

    /// <summary>The pseudo-tenant of calls between silos: no grants of its own (silos are trusted by their signature instead).</summary>
    internal static Tenant Silo { get; } = new("silo", null, []);

    public string Id { get; }

    internal string? Secret { get; }

    internal byte[] CallKey { get; }

    public IReadOnlyList<Grant> Grants { get; }

    /// <summary>A short fingerprint of the id that capability tokens carry (8 bytes of its SHA-256).</summary>
    internal ulong Tag { get; }

    /// <summary>Admin on every bucket: the admin API, cluster statistics, every tenant's jobs.</summary>
    public bool IsClusterAdmin { get; }

    public bool Allows(AccessVerbs verb, string bucket, string key)
    {
        foreach (var g in Grants)
        {
            if (g.Allows(verb, bucket, key))
                return true;
        }
        return false;
    }

    /// <summary>
    /// What the tenant may see of a listing of <paramref name="prefix"/> in <paramref name="bucket"/>: all of it when a list
    /// grant covers the prefix, part of it when a list grant lies under the prefix (a tenant of <c>team-a/</c> listing the
    /// bucket's root sees <c>team-a/</c> only), else nothing.
    /// </summary>
    public ListVisibility VisibilityOf(string bucket, string prefix)
    {
        var result = ListVisibility.None;
        foreach (var g in Grants)
        {
            if ((g.Verbs & AccessVerbs.List) == 0 || !g.CoversBucket(bucket))
                continue;
            if (prefix.StartsWith(g.Prefix, StringComparison.Ordinal))
                return ListVisibility.Full;
            if (g.Prefix.StartsWith(prefix, StringComparison.Ordinal))
                result = ListVisibility.Partial;
        }
        return result;
    }

    /// <summary>Whether a listed key, or a common prefix of a delimiter listing, is visible to the tenant.</summary>
    public bool CanSee(string bucket, string item, bool isPrefix)
    {
        foreach (var g in Grants)
        {
            if ((g.Verbs & AccessVerbs.List) == 0 || !g.CoversBucket(bucket))
                continue;
            if (item.StartsWith(g.Prefix, StringComparison.Ordinal) || (isPrefix && g.Prefix.StartsWith(item, StringComparison.Ordinal)))
                return true;
        }
        return false;
    }

    internal static ulong TagOf(string id) => BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    public override string ToString() => $"tenant {Id}";
}
