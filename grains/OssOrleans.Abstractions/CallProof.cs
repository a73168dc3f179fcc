using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OssOrleans;

/// <summary>
/// How a client proves, on every grain call, that it holds its tenant's secret: an HMAC-SHA256 over the call's target
/// (interface, method, grain id) and the time, carried in the Orleans request context under <see cref="RequestContextKey"/>
/// as <c>v1:{accessKeyId}:{unixSeconds}:{mac}</c>. The silo accepts it within a short window of its own clock, so a proof
/// cannot be replayed beyond that window, nor for another call target. Built here and nowhere else, so the client's
/// signer and the silo's verifier cannot drift apart.
/// </summary>
public static class CallProof
{
    /// <summary>The request context entry a client's proof travels in.</summary>
    public const string RequestContextKey = "oss-auth";

    /// <summary>The tenant every client is on a cluster that has no tenants (the embedded default).</summary>
    public const string AnonymousTenant = "anonymous";

    private const string Version = "v1";

    /// <summary>
    /// The key a tenant signs calls with, derived from its secret (the secret itself is used once, here): clients and silos
    /// both keep only this.
    /// </summary>
    public static byte[] DeriveKey(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes("OSSORLEANS" + secret), "ossorleans-call-v1"u8);
    }

    /// <summary>The proof of one call.</summary>
    public static string Create(string accessKeyId, byte[] key, long unixSeconds, string interfaceName, string methodName, string target)
    {
        var mac = Mac(key, unixSeconds, interfaceName, methodName, target);
        return string.Create(CultureInfo.InvariantCulture, $"{Version}:{accessKeyId}:{unixSeconds}:{Base64Url.EncodeToString(mac)}");
    }

    /// <summary>Splits a proof into its access key id, time and MAC; false when it is not a well-formed proof.</summary>
    public static bool TryParse(string? proof, out string accessKeyId, out long unixSeconds, out byte[] mac)
    {
        (accessKeyId, unixSeconds, mac) = ("", 0, []);
        if (proof is null || proof.Length > 512)
            return false;
        var parts = proof.Split(':');
        if (parts.Length != 4 || parts[0] != Version || parts[1].Length == 0
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out unixSeconds))
            return false;
        try
        {
            mac = Base64Url.DecodeFromChars(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        accessKeyId = parts[1];
        return mac.Length == 32;
    }

    /// <summary>True when <paramref name="mac"/> is the MAC of this call under <paramref name="key"/> (constant time).</summary>
    public static bool Verify(byte[] key, long unixSeconds, string interfaceName, string methodName, string target, byte[] mac) =>
        CryptographicOperations.FixedTimeEquals(Mac(key, unixSeconds, interfaceName, methodName, target), mac);

    private static byte[] Mac(byte[] key, long unixSeconds, string interfaceName, string methodName, string target) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"OSSORLEANS-CALL-V1\n{unixSeconds}\n{interfaceName}\n{methodName}\n{target}")));
}

/// <summary>
/// Grain keys that belong to one tenant: <c>{tenant}/{id}</c>. Uploads, warm jobs, dataset snapshots and their runs are
/// keyed so, which lets the silo see from the key alone whose grain a call reaches, and keeps one tenant from reaching (or
/// pre-creating) another's.
/// </summary>
public static class TenantKeys
{
    /// <summary>The key of grain <paramref name="id"/> owned by <paramref name="tenant"/>.</summary>
    public static string Owned(string tenant, string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (tenant.Contains('/'))
            throw new ArgumentException($"tenant '{tenant}' contains '/'", nameof(tenant));
        return tenant + "/" + id;
    }

    /// <summary>The owner of an owned grain key; false when the key has no owner part.</summary>
    public static bool TryGetOwner(string grainKey, out string tenant)
    {
        int slash = grainKey.IndexOf('/', StringComparison.Ordinal);
        tenant = slash > 0 ? grainKey[..slash] : "";
        return slash > 0 && slash < grainKey.Length - 1;
    }
}

/// <summary>
/// Raised to callers whose request is refused: not authenticated (no proof, a wrong key or signature, a proof outside the
/// time window), not authorized (no grant for what it touches), or reaching something only silos may use. It says what
/// was refused, never a secret.
/// </summary>
[GenerateSerializer, Alias("OssOrleans.OssAccessDeniedException")]
public sealed class OssAccessDeniedException : Exception
{
    public OssAccessDeniedException() { }
    public OssAccessDeniedException(string message) : base(message) { }
    public OssAccessDeniedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Raised when bytes fail an integrity check that retrying cannot fix: the origin's whole-object CRC-64 does not match the
/// bytes it served for that version, or a data plane kept sending bytes that do not match their CRC-64.
/// </summary>
[GenerateSerializer, Alias("OssOrleans.OssIntegrityException")]
public sealed class OssIntegrityException : Exception
{
    public OssIntegrityException() { }
    public OssIntegrityException(string message) : base(message) { }
    public OssIntegrityException(string message, Exception inner) : base(message, inner) { }
}
