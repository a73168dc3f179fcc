using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace OssOrleans.Grains.Security;

/// <summary>
/// Issues and checks this silo's data-plane capabilities: a shard location's token says "tenant T may read handle H of this
/// silo's incarnation until time E". Layout (<see cref="CapabilityToken.Bytes"/> bytes): expiry (int64 Unix seconds),
/// tenant tag (8 bytes of the tenant id's SHA-256), and the first 16 bytes of HMAC-SHA256(key, purpose, handle,
/// incarnation, expiry, tag). The key is random per silo start: only this process issues and checks its tokens (grains
/// locate the shards of their own silo), so a restarted silo accepts none of the tokens of its previous life, whatever the
/// handle.
/// </summary>
public sealed class CapabilityIssuer
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;

    public CapabilityIssuer(ILocalSiloDetails silo, IOptions<AuthOptions> options)
        : this(silo.SiloAddress.Generation, options.Value.CapabilityLifetime, TimeProvider.System)
    {
    }

    internal CapabilityIssuer(int incarnation, TimeSpan lifetime, TimeProvider time)
    {
        Incarnation = incarnation;
        _lifetime = lifetime;
        _time = time;
    }

    /// <summary>The silo's incarnation (its generation in the cluster): part of every MAC.</summary>
    public int Incarnation { get; }

    /// <summary>A token for <paramref name="tenant"/> to read <paramref name="handle"/>, in its text form.</summary>
    public string Issue(long handle, Tenant tenant)
    {
        Span<byte> token = stackalloc byte[CapabilityToken.Bytes];
        long expires = _time.GetUtcNow().Add(_lifetime).ToUnixTimeSeconds();
        BinaryPrimitives.WriteInt64LittleEndian(token, expires);
        BinaryPrimitives.WriteUInt64LittleEndian(token[8..], tenant.Tag);
        WriteMac(handle, token[..16], token[16..]);
        return CapabilityToken.Encode(token);
    }

    /// <summary>
    /// Checks a token (raw bytes) for <paramref name="handle"/>: well formed, made here for this handle, not expired. The
    /// tenant tag it carries comes back for audit lines.
    /// </summary>
    public bool Verify(long handle, ReadOnlySpan<byte> token, out ulong tenantTag)
    {
        tenantTag = 0;
        if (token.Length != CapabilityToken.Bytes)
            return false;
        Span<byte> mac = stackalloc byte[16];
        WriteMac(handle, token[..16], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, token[16..]))
            return false;
        if (BinaryPrimitives.ReadInt64LittleEndian(token) < _time.GetUtcNow().ToUnixTimeSeconds())
            return false;
        tenantTag = BinaryPrimitives.ReadUInt64LittleEndian(token[8..]);
        return true;
    }

    /// <summary>The same check for a token's text form (a query parameter).</summary>
    public bool Verify(long handle, string? token, out ulong tenantTag)
    {
        Span<byte> raw = stackalloc byte[CapabilityToken.Bytes];
        tenantTag = 0;
        return CapabilityToken.TryDecode(token, raw) && Verify(handle, raw, out tenantTag);
    }

    // MAC over ("cap", handle, incarnation, expiry + tag), truncated to 16 bytes: 128 bits are far beyond guessing.
    private void WriteMac(long handle, ReadOnlySpan<byte> expiryAndTag, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[3 + 8 + 4 + 16];
        "cap"u8.CopyTo(input);
        BinaryPrimitives.WriteInt64LittleEndian(input[3..], handle);
        BinaryPrimitives.WriteInt32LittleEndian(input[11..], Incarnation);
        expiryAndTag.CopyTo(input[15..]);
        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(_key, input, full);
        full[..16].CopyTo(destination);
    }
}
