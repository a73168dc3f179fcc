using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using OssOrleans.Gateway.Hosting;
using OssOrleans.Gateway.Protocol;
using OssOrleans.Grains.Security;

namespace OssOrleans.Gateway;

/// <summary>
/// Who sent a request. With tenants, every request must carry a SigV4 signature (header or presigned) made with a
/// tenant's secret within the clock window; anything else is refused with the error S3 gives. Without tenants (the
/// embedded default, loopback only) there are no secrets to check a signature against: every request, unsigned or signed
/// with any key, is the anonymous tenant's, and signed aws-chunked bodies are decoded without checking their signatures.
/// </summary>
internal sealed class GatewayAuthenticator
{
    private readonly TenantRegistry _tenants;
    private readonly SigV4Verifier _verifier;

    public GatewayAuthenticator(TenantRegistry tenants, IOptions<GatewayOptions> options)
    {
        _tenants = tenants;
        // The tenant's secret itself: SigV4 derives its signing key from it.
        _verifier = new SigV4Verifier(id => tenants.TryGet(id, out var t) ? t.Secret : null, options.Value.MaxClockSkew);
    }

    public bool IsAnonymous => _tenants.IsAnonymous;

    /// <summary>Fills in the exchange's tenant and signature, or gives the error to refuse it with.</summary>
    public bool TryAuthenticate(S3Exchange exchange, DateTimeOffset now, [NotNullWhen(false)] out S3Error? error)
    {
        var head = exchange.Head;
        if (_tenants.IsAnonymous)
        {
            exchange.Tenant = Tenant.Anonymous;
            exchange.SignatureUnchecked = head.Headers.ContainsKey("Authorization") || head.Query.Contains("X-Amz-Signature");
            error = null;
            return true;
        }
        var outcome = _verifier.Verify(head, now);
        if (outcome.IsRejected)
        {
            error = outcome.Error;
            return false;
        }
        if (!outcome.IsAuthenticated || !_tenants.TryGet(outcome.Authentication.AccessKeyId, out var tenant))
        {
            error = S3Errors.AccessDenied("Anonymous access is not allowed: sign requests with a tenant's access key.");
            return false;
        }
        exchange.Tenant = tenant;
        exchange.Signature = outcome.Authentication;
        error = null;
        return true;
    }

    /// <summary>The access key id a request claims (for the log line of a refusal), never its signature.</summary>
    public static string ClaimedKey(S3RequestHead? head)
    {
        if (head is null)
            return "(unparsed)";
        string? credential = head.Query["X-Amz-Credential"];
        if (credential is null && head.Headers.TryGetValue("Authorization", out var values) && values.Count == 1 && values[0] is { } auth)
        {
            int at = auth.IndexOf("Credential=", StringComparison.Ordinal);
            credential = at < 0 ? null : auth[(at + "Credential=".Length)..];
        }
        if (credential is null)
            return "(unsigned)";
        int slash = credential.IndexOf('/', StringComparison.Ordinal);
        string id = slash < 0 ? credential : credential[..slash];
        return id.Length is > 0 and <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') ? id : "(malformed)";
    }
}
