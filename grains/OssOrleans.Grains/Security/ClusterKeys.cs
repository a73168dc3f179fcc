using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OssOrleans.Grains.Security;

/// <summary>
/// Keys every silo of the cluster shares, each derived for one purpose from the cluster secret
/// (<see cref="AuthOptions.ClusterSecret"/>), so a MAC made for one purpose is never accepted for another. Without a
/// configured secret the process makes up one at start: enough for a one-node cluster and for silos in one process
/// (tests); silos in separate processes must share a configured secret (the silo host insists).
/// </summary>
public sealed class ClusterKeys
{
    // One random secret per process, shared by every silo in it.
    private static readonly Lazy<string> ProcessSecret = new(() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));

    public ClusterKeys(IOptions<AuthOptions> options)
        : this(Resolve(options.Value))
    {
    }

    internal ClusterKeys(string secret)
    {
        var root = Encoding.UTF8.GetBytes(secret);
        SiloCall = Derive(root, "silo-call");
        SiloHttp = Derive(root, "silo-http");
        StageReceipt = Derive(root, "stage-receipt");
        UploadSession = Derive(root, "upload-session");
    }

    /// <summary>True when the secret came from configuration (false: made up by this process).</summary>
    public static bool IsConfigured(AuthOptions options) => !string.IsNullOrEmpty(options.ClusterSecret) || !string.IsNullOrEmpty(options.ClusterSecretFile);

    /// <summary>Signs grain calls from one silo to another (<see cref="SiloCallSigner"/>).</summary>
    internal byte[] SiloCall { get; }

    /// <summary>Signs data-plane requests from one silo to another (peer copies of staged shards).</summary>
    internal byte[] SiloHttp { get; }

    /// <summary>Signs receipts for staged shards (<see cref="StagedShard.Mac"/>).</summary>
    internal byte[] StageReceipt { get; }

    /// <summary>Signs upload sessions (<see cref="UploadSession.Token"/>).</summary>
    internal byte[] UploadSession { get; }

    /// <summary>The secret from configuration (or its file), else the process's own. Throws naming the setting when it is unusable.</summary>
    internal static string Resolve(AuthOptions options)
    {
        string s = AuthOptions.Section;
        if (!string.IsNullOrEmpty(options.ClusterSecret) && !string.IsNullOrEmpty(options.ClusterSecretFile))
            throw new InvalidOperationException($"{s}:ClusterSecret: give ClusterSecret or ClusterSecretFile, not both");
        string? secret = !string.IsNullOrEmpty(options.ClusterSecretFile)
            ? SecretFile.ReadFirstLine(options.ClusterSecretFile, $"{s}:ClusterSecretFile")
            : options.ClusterSecret;
        if (string.IsNullOrEmpty(secret))
            return ProcessSecret.Value;
        if (secret.Length < 32)
            throw new InvalidOperationException($"{s}:ClusterSecret: must be at least 32 characters (for example: openssl rand -hex 32)");
        return secret;
    }

    private static byte[] Derive(byte[] root, string purpose) => HMACSHA256.HashData(root, Encoding.UTF8.GetBytes("ossorleans-" + purpose));

    /// <summary>HMAC-SHA256 of <paramref name="text"/> under <paramref name="key"/>, as base64url.</summary>
    internal static string Mac(byte[] key, string text) => Base64Url.EncodeToString(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));

    /// <summary>Constant-time check of a base64url MAC made by <see cref="Mac"/>.</summary>
    internal static bool Verify(byte[] key, string text, string? mac)
    {
        if (mac is null || mac.Length != 43)
            return false;
        Span<byte> given = stackalloc byte[32];
        if (!Base64Url.TryDecodeFromChars(mac, given, out int n) || n != 32)
            return false;
        return CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)), given);
    }

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
