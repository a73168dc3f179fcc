namespace OssOrleans.Storage;

/// <summary>Where and how to reach an S3-compatible endpoint.</summary>
/// <param name="ServiceUrl">scheme://host[:port], no path: the SDK's ServiceURL.</param>
/// <param name="AuthenticationRegion">The SigV4 signing region.</param>
/// <param name="ForcePathStyle">True for path-style addressing (http://host/bucket/key), false for virtual-hosted (http://bucket.host/key).</param>
/// <param name="IsOss">True for Alibaba Cloud OSS (*.aliyuncs.com), which gets its own headers.</param>
internal sealed record OssEndpointInfo(Uri ServiceUrl, string AuthenticationRegion, bool ForcePathStyle, bool IsOss)
{
    public bool UseHttp => ServiceUrl.Scheme == Uri.UriSchemeHttp;

    /// <summary>The service URL without a trailing slash, as used in names and logs.</summary>
    public string DisplayUrl => ServiceUrl.GetLeftPart(UriPartial.Authority);
}

/// <summary>
/// Maps the endpoint strings users bring (OSS connector style or plain URLs) to S3 client settings.
/// Pure functions.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>No scheme means http (the OSS connector's default): <c>oss-cn-beijing-internal.aliyuncs.com</c>.</item>
/// <item><c>oss-&lt;region&gt;[-internal].aliyuncs.com</c> becomes <c>s3.oss-&lt;region&gt;[-internal].aliyuncs.com</c>,
/// <c>oss-accelerate[-overseas].aliyuncs.com</c> becomes <c>s3.oss-accelerate[-overseas].aliyuncs.com</c>;
/// hosts already in the <c>s3.oss-...</c> form stay. The signing region is the region without "oss-" and
/// "-internal" ("cn-beijing"); the accelerate endpoints name no region, so <c>Region</c> must be set for them.
/// OSS accepts only virtual-hosted addressing.</item>
/// <item>Other endpoints are used as they are, with the region from options or "us-east-1".
/// Path style is the default for them (IP addresses, localhost, single-label hosts such as "minio", and
/// self-hosted DNS names, which rarely have wildcard DNS), except for AWS (*.amazonaws.com).</item>
/// </list>
/// </remarks>
internal static class OssEndpoint
{
    public const string DefaultRegion = "us-east-1";
    private const string OssDomain = ".aliyuncs.com";

    /// <summary>Resolves an endpoint. Throws <see cref="ArgumentException"/> naming the option for bad input.</summary>
    /// <param name="endpoint">The <c>Endpoint</c> option.</param>
    /// <param name="region">The <c>Region</c> option; overrides the region derived from an OSS endpoint.</param>
    /// <param name="forcePathStyle">The <c>ForcePathStyle</c> option; null chooses as described above.</param>
    public static OssEndpointInfo Resolve(string? endpoint, string? region = null, bool? forcePathStyle = null)
    {
        Uri url = ParseUrl(endpoint);
        string host = url.IdnHost.ToLowerInvariant();
        if (!string.IsNullOrEmpty(region) && (region.Trim() != region || region.Any(char.IsWhiteSpace)))
        {
            throw new ArgumentException($"{nameof(S3StoreOptions)}.{nameof(S3StoreOptions.Region)} must not contain white space", nameof(region));
        }

        if (host.EndsWith(OssDomain, StringComparison.Ordinal))
        {
            (string s3Host, string? derivedRegion) = MapOssHost(host);
            string signingRegion = !string.IsNullOrEmpty(region) ? region : derivedRegion
                ?? throw new ArgumentException(
                    $"{nameof(S3StoreOptions)}.{nameof(S3StoreOptions.Region)} must be set for the OSS endpoint {host}, which names no region",
                    nameof(region));
            var builder = new UriBuilder(url.Scheme, s3Host, url.IsDefaultPort ? -1 : url.Port);
            return new OssEndpointInfo(builder.Uri, signingRegion, forcePathStyle ?? false, IsOss: true);
        }

        bool pathStyle = forcePathStyle ?? !host.EndsWith(".amazonaws.com", StringComparison.Ordinal);
        string plainRegion = string.IsNullOrEmpty(region) ? DefaultRegion : region;
        var plain = new UriBuilder(url.Scheme, url.Host, url.IsDefaultPort ? -1 : url.Port);
        return new OssEndpointInfo(plain.Uri, plainRegion, pathStyle, IsOss: false);
    }

    private static Uri ParseUrl(string? endpoint)
    {
        const string option = nameof(S3StoreOptions) + "." + nameof(S3StoreOptions.Endpoint);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            throw new ArgumentException($"{option} is empty", nameof(endpoint));
        }
        string text = endpoint.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? url))
        {
            throw new ArgumentException($"{option} '{Printable(endpoint)}' is not a host name or an http(s) URL", nameof(endpoint));
        }
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"{option} must use http or https, not '{url.Scheme}'", nameof(endpoint));
        }
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            // Do not echo the value: it holds credentials.
            throw new ArgumentException($"{option} must not contain user info; set the credentials options instead", nameof(endpoint));
        }
        if (url.AbsolutePath != "/" || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            throw new ArgumentException($"{option} '{Printable(endpoint)}' must not have a path, query or fragment (the bucket is not part of the endpoint)", nameof(endpoint));
        }
        if (Uri.CheckHostName(url.Host.Trim('[', ']')) == UriHostNameType.Unknown || url.Host.Length == 0)
        {
            throw new ArgumentException($"{option} '{Printable(endpoint)}' does not name a valid host", nameof(endpoint));
        }
        return url;
    }

    private static (string Host, string? Region) MapOssHost(string host)
    {
        const string option = nameof(S3StoreOptions) + "." + nameof(S3StoreOptions.Endpoint);
        string[] labels = host.Split('.');
        // labels: [..., "aliyuncs", "com"]
        if (labels.Length == 3 && labels[0].StartsWith("oss-", StringComparison.Ordinal))
        {
            return ("s3." + host, RegionOf(labels[0]));
        }
        if (labels.Length == 4 && labels[0] == "s3" && labels[1].StartsWith("oss-", StringComparison.Ordinal))
        {
            return (host, RegionOf(labels[1]));
        }
        if (labels.Length >= 4 && labels[^3].StartsWith("oss-", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{option} '{host}' looks like a bucket host; give the region endpoint ({string.Join('.', labels[^3..])}) and the bucket separately", "endpoint");
        }
        throw new ArgumentException($"{option} '{host}' is not an OSS endpoint of the form oss-<region>[-internal].aliyuncs.com or s3.oss-<region>[-internal].aliyuncs.com", "endpoint");
    }

    private static string? RegionOf(string ossLabel)
    {
        string region = ossLabel["oss-".Length..];
        if (region.EndsWith("-internal", StringComparison.Ordinal))
        {
            region = region[..^"-internal".Length];
        }
        return region is "" or "accelerate" or "accelerate-overseas" ? null : region;
    }

    private static string Printable(string value) => value.Length > 200 ? value[..200] + "..." : value;
}
