using System.Diagnostics.CodeAnalysis;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Finds the bucket and key a request addresses. Virtual-hosted: the Host header is <c>bucket.&lt;base domain&gt;</c>
/// (any port) for one of the configured base domains, and the whole path is the key. Path-style otherwise (the Host
/// is a base domain itself, an IP, or any other name): the first path segment is the bucket, the rest the key. The
/// bucket is split off the raw path before decoding, so an encoded slash (<c>%2F</c>) stays inside the key; the key
/// is percent-decoded exactly once.
/// </summary>
internal sealed class S3AddressResolver
{
    private readonly string[] _baseDomains;

    /// <param name="baseDomains">Host names under which buckets are virtual hosts ("s3.example.com"); none for path-style only.</param>
    public S3AddressResolver(IEnumerable<string> baseDomains)
    {
        ArgumentNullException.ThrowIfNull(baseDomains);
        _baseDomains = baseDomains.Select(d =>
        {
            string domain = d.Trim().TrimEnd('.').ToLowerInvariant();
            if (domain.Length == 0 || domain.Contains('/') || domain.Contains(':') || domain.StartsWith('.'))
                throw new ArgumentException($"'{d}' is not a host name (no scheme, port or path)", nameof(baseDomains));
            return domain;
        }).ToArray();
    }

    public bool TryResolve(S3RequestHead request, [NotNullWhen(true)] out S3Target? target, [NotNullWhen(false)] out S3Error? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        target = null;
        string path = request.RawPath;
        string? virtualBucket = VirtualHostedBucket(request.Headers.Host.Count == 1 ? request.Headers.Host[0] : null);
        if (virtualBucket is not null)
        {
            if ((error = S3Names.ValidateBucket(virtualBucket)) is not null)
                return false;
            return TryKey(path.AsSpan(1), virtualBucket, virtualHosted: true, out target, out error);
        }

        var rest = path.AsSpan(1);
        if (rest.IsEmpty)
        {
            target = new S3Target(null, null, VirtualHosted: false);
            error = null;
            return true;
        }
        int slash = rest.IndexOf('/');
        var rawBucket = slash < 0 ? rest : rest[..slash];
        if (!S3Uri.TryDecode(rawBucket, plusIsSpace: true, out string? bucket))
        {
            error = S3Errors.InvalidUri();
            return false;
        }
        if ((error = S3Names.ValidateBucket(bucket)) is not null)
            return false;
        return TryKey(slash < 0 ? [] : rest[(slash + 1)..], bucket, virtualHosted: false, out target, out error);
    }

    private static bool TryKey(ReadOnlySpan<char> rawKey, string bucket, bool virtualHosted, [NotNullWhen(true)] out S3Target? target,
        [NotNullWhen(false)] out S3Error? error)
    {
        target = null;
        if (rawKey.IsEmpty)
        {
            target = new S3Target(bucket, null, virtualHosted);
            error = null;
            return true;
        }
        if (!S3Uri.TryDecode(rawKey, plusIsSpace: true, out string? key))
        {
            error = S3Errors.InvalidUri();
            return false;
        }
        if ((error = S3Names.ValidateKey(key)) is not null)
            return false;
        target = new S3Target(bucket, key, virtualHosted);
        return true;
    }

    private string? VirtualHostedBucket(string? host)
    {
        if (string.IsNullOrEmpty(host) || _baseDomains.Length == 0 || host[0] == '[')
            return null;
        int colon = host.LastIndexOf(':');
        if (colon >= 0)
            host = host[..colon];
        host = host.TrimEnd('.').ToLowerInvariant();
        foreach (string domain in _baseDomains)
        {
            if (host.Length > domain.Length + 1 && host.EndsWith(domain, StringComparison.Ordinal) && host[^(domain.Length + 1)] == '.')
                return host[..^(domain.Length + 1)];
        }
        return null;
    }
}
