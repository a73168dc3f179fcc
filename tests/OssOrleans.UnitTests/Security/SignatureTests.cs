using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using OssOrleans.Grains.Security;

namespace OssOrleans.UnitTests.Security;

/// <summary>The MACs the cluster's trust rests on: each accepts exactly what it was made for.</summary>
public sealed class SignatureTests
{
    private static readonly ClusterKeys Keys = new(new string('k', 40));

    [Fact]
    public void CallProof_VerifiesOnlyItsOwnTarget_Key_AndTime()
    {
        var key = CallProof.DeriveKey("team-a-secret-0123");
        string proof = CallProof.Create("team-a", key, 1000, "OssOrleans.IShardGrain", "EnsureLoadedAsync", "shard/x");
        Assert.True(CallProof.TryParse(proof, out string id, out long at, out byte[] mac));
        Assert.Equal(("team-a", 1000L), (id, at));
        Assert.True(CallProof.Verify(key, 1000, "OssOrleans.IShardGrain", "EnsureLoadedAsync", "shard/x", mac));
        Assert.False(CallProof.Verify(key, 1001, "OssOrleans.IShardGrain", "EnsureLoadedAsync", "shard/x", mac));
        Assert.False(CallProof.Verify(key, 1000, "OssOrleans.IObjectGrain", "EnsureLoadedAsync", "shard/x", mac));
        Assert.False(CallProof.Verify(key, 1000, "OssOrleans.IShardGrain", "SeedAsync", "shard/x", mac));
        Assert.False(CallProof.Verify(key, 1000, "OssOrleans.IShardGrain", "EnsureLoadedAsync", "shard/y", mac));
        Assert.False(CallProof.Verify(CallProof.DeriveKey("another-secret-99"), 1000, "OssOrleans.IShardGrain", "EnsureLoadedAsync", "shard/x", mac));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("v1:team-a:1000")]
    [InlineData("v2:team-a:1000:AAAA")]
    [InlineData("v1::1000:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("v1:team-a:-5:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("v1:team-a:1000:not*base64")]
    [InlineData("v1:team-a:1000:AAAA")]
    public void CallProof_Malformed_IsNotParsed(string? proof)
    {
        Assert.False(CallProof.TryParse(proof, out _, out _, out _));
    }

    [Fact]
    public void SiloSignature_RefusesOtherTargets_OldSignatures_AndOtherClusters()
    {
        string sig = SiloCallSigner.Sign(Keys, 5000, "I", "M", "t");
        Assert.True(SiloCallSigner.Verify(Keys, sig, 5030, TimeSpan.FromMinutes(2), "I", "M", "t"));
        Assert.False(SiloCallSigner.Verify(Keys, sig, 5030, TimeSpan.FromMinutes(2), "I", "M", "u"));
        Assert.False(SiloCallSigner.Verify(Keys, sig, 5000 + 121, TimeSpan.FromMinutes(2), "I", "M", "t"));
        Assert.False(SiloCallSigner.Verify(new ClusterKeys(new string('x', 40)), sig, 5000, TimeSpan.FromMinutes(2), "I", "M", "t"));
        Assert.False(SiloCallSigner.Verify(Keys, "5000:" + new string('A', 43), 5000, TimeSpan.FromMinutes(2), "I", "M", "t"));
        Assert.False(SiloCallSigner.Verify(Keys, "garbage", 5000, TimeSpan.FromMinutes(2), "I", "M", "t"));
    }

    [Fact]
    public void SiloHttpAuth_CoversMethodAndPathWithQuery()
    {
        string header = SiloHttpAuth.Sign(Keys, "GET", "/s/42?stage=up%7Cx%7C1%7C0", 7000);
        Assert.True(SiloHttpAuth.Verify(Keys, header, "GET", "/s/42?stage=up%7Cx%7C1%7C0", 7000, TimeSpan.FromMinutes(2)));
        Assert.False(SiloHttpAuth.Verify(Keys, header, "DELETE", "/s/42?stage=up%7Cx%7C1%7C0", 7000, TimeSpan.FromMinutes(2)));
        Assert.False(SiloHttpAuth.Verify(Keys, header, "GET", "/s/43?stage=up%7Cx%7C1%7C0", 7000, TimeSpan.FromMinutes(2)));
        Assert.False(SiloHttpAuth.Verify(Keys, header, "GET", "/s/42?stage=up%7Cx%7C1%7C0", 9000, TimeSpan.FromMinutes(2)));
        Assert.False(SiloHttpAuth.Verify(Keys, null, "GET", "/s/42", 7000, TimeSpan.FromMinutes(2)));
    }

    [Fact]
    public void Capability_BoundToHandleIncarnationAndTime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var issuer = new CapabilityIssuer(incarnation: 7, TimeSpan.FromMinutes(5), time);
        string token = issuer.Issue(1234, Tenant.Anonymous);
        Assert.True(issuer.Verify(1234, token, out ulong tag));
        Assert.Equal(Tenant.TagOf(CallProof.AnonymousTenant), tag);
        Assert.False(issuer.Verify(1235, token, out _));

        // Another incarnation of the silo (a restart) has another key and accepts none of the old tokens.
        Assert.False(new CapabilityIssuer(incarnation: 8, TimeSpan.FromMinutes(5), time).Verify(1234, token, out _));

        // A flipped bit anywhere (expiry, tenant, MAC) is refused.
        Span<byte> raw = stackalloc byte[CapabilityToken.Bytes];
        Assert.True(CapabilityToken.TryDecode(token, raw));
        for (int i = 0; i < CapabilityToken.Bytes; i += 5)
        {
            var copy = raw.ToArray();
            copy[i] ^= 0x01;
            Assert.False(issuer.Verify(1234, copy, out _));
        }
        // Extending the expiry by hand breaks the MAC too.
        var later = raw.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(later, BinaryPrimitives.ReadInt64LittleEndian(later) + 3600);
        Assert.False(issuer.Verify(1234, later, out _));

        time.Advance(TimeSpan.FromMinutes(6));
        Assert.False(issuer.Verify(1234, token, out _));
        Assert.False(issuer.Verify(1234, "not-a-token", out _));
        Assert.False(issuer.Verify(1234, (string?)null, out _));
    }

    private static UploadClaims Claims(string key = "ckpt/a.bin", long expires = long.MaxValue / 2) =>
        new("ckpt", key, "origin-upload-1", 1 << 20, 8 << 20, false, "team-a", expires);

    [Fact]
    public void UploadToken_RoundTrips_AndRefusesTamperingAndExpiry()
    {
        string token = UploadTokens.Issue(Keys, Claims());
        Assert.True(UploadTokens.TryRead(Keys, token, DateTimeOffset.UtcNow, out var claims));
        Assert.Equal(Claims(), claims);

        // The payload names the object: a token for another key, or from another cluster, is not accepted.
        string other = UploadTokens.Issue(Keys, Claims("ckpt/b.bin"));
        string spliced = token[..token.LastIndexOf('.')] + other[other.LastIndexOf('.')..];
        Assert.False(UploadTokens.TryRead(Keys, spliced, DateTimeOffset.UtcNow, out _));
        Assert.False(UploadTokens.TryRead(new ClusterKeys(new string('x', 40)), token, DateTimeOffset.UtcNow, out _));
        Assert.False(UploadTokens.TryRead(Keys, token[..^2] + "AA", DateTimeOffset.UtcNow, out _));
        Assert.False(UploadTokens.TryRead(Keys, UploadTokens.Issue(Keys, Claims(expires: 100)), DateTimeOffset.UtcNow, out _));
        Assert.False(UploadTokens.TryRead(Keys, "v1.e30." + new string('A', 43), DateTimeOffset.UtcNow, out _));
        Assert.False(UploadTokens.TryRead(Keys, null, DateTimeOffset.UtcNow, out _));
    }

    [Fact]
    public void StageReceipt_AnyChangedField_OrAnotherUpload_FailsTheMac()
    {
        var receipt = StageReceipts.Sign(Keys, Claims(), 2, "silo-1", "http://10.0.0.1:9", 77, 1 << 20, 123UL, 3, "\"etag-3\"", 8 << 20);
        Assert.True(StageReceipts.Verify(Keys, Claims(), receipt));
        Assert.False(StageReceipts.Verify(Keys, Claims("ckpt/other.bin"), receipt));
        Assert.False(StageReceipts.Verify(Keys, Claims() with { UploadId = "origin-upload-2" }, receipt));
        foreach (var changed in new[]
        {
            receipt with { ShardInPart = 3 }, receipt with { Silo = "silo-2" }, receipt with { DataPlane = "http://evil:1" },
            receipt with { Handle = 78 }, receipt with { Length = 1 }, receipt with { Crc64 = 124 }, receipt with { PartNumber = 4 },
            receipt with { PartETag = "\"etag-4\"" }, receipt with { PartLength = 1 }, receipt with { Mac = "" },
        })
        {
            Assert.False(StageReceipts.Verify(Keys, Claims(), changed), changed.ToString());
        }
    }
}
