using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Checks AWS Signature Version 4 on an incoming S3 request, in both forms: the <c>Authorization</c> header and the
/// presigned query (<c>X-Amz-Algorithm</c>...). The canonical request is built as S3 builds it (see
/// <see cref="S3Uri.TryAppendCanonicalPath"/> for the path, sorted re-encoded query, signed headers trimmed and with
/// runs of whitespace collapsed, multiple values comma-joined) and the signature compared in constant time.
/// </summary>
/// <remarks>
/// Rules beyond the arithmetic, each a choice with a reason:
/// <list type="bullet">
/// <item><c>host</c> must be signed, and so must every <c>x-amz-*</c> header present: an unsigned one could be added or
/// changed on the way (<c>x-amz-copy-source</c>, <c>x-amz-decoded-content-length</c>, a checksum), so it is refused
/// with S3's <c>AccessDenied</c> "There were headers present in the request which were not signed".</item>
/// <item>Session tokens (<c>x-amz-security-token</c>, <c>X-Amz-Security-Token</c>) are refused with <c>InvalidToken</c>:
/// this endpoint issues none, so a client sending one is configured for some other service.</item>
/// <item>Any region is accepted and reported (<see cref="SigV4Authentication.Region"/>); the service must be s3.</item>
/// <item>Header-signed requests may be <see cref="MaxClockSkew"/> away from now; presigned ones are valid from their
/// date (less the same skew) until date + X-Amz-Expires (1 to 604800 seconds).</item>
/// </list>
/// Failure messages name what was wrong, never the secret or the signature expected; a mismatch carries S3's
/// <c>StringToSign</c> and <c>CanonicalRequest</c> details, which derive from the request alone.
/// </remarks>
internal sealed class SigV4Verifier
{
    public static readonly TimeSpan DefaultMaxClockSkew = TimeSpan.FromMinutes(15);

    public const int MaxPresignedExpirySeconds = 604800;

    // Far above any real header (about 250 characters with 10 signed headers), far below Kestrel's header limits.
    private const int MaxAuthorizationLength = 4096;
    private const int MaxSignedHeaders = 64;
    private const int MaxAccessKeyIdLength = 128;
    private const int MaxRegionLength = 64;

    private const string MissingDate = "AWS authentication requires a valid Date or x-amz-date header";

    private readonly Func<string, string?> _secretLookup;

    /// <param name="secretLookup">The secret of an access key id, or null when the id is unknown.</param>
    /// <param name="maxClockSkew">How far a header-signed request's time may be from now (default 15 minutes, as S3).</param>
    public SigV4Verifier(Func<string, string?> secretLookup, TimeSpan? maxClockSkew = null)
    {
        ArgumentNullException.ThrowIfNull(secretLookup);
        if (maxClockSkew is { } skew && skew < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(maxClockSkew), skew, "the clock skew allowance must not be negative");
        _secretLookup = secretLookup;
        MaxClockSkew = maxClockSkew ?? DefaultMaxClockSkew;
    }

    public TimeSpan MaxClockSkew { get; }

    public SigV4Outcome Verify(S3RequestHead request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query;
        bool hasHeader = request.Headers.TryGetValue("Authorization", out var authorization);
        bool hasQueryV4 = query.Contains("X-Amz-Algorithm") || query.Contains("X-Amz-Credential") || query.Contains("X-Amz-Signature");
        bool hasQueryV2 = query.Contains("AWSAccessKeyId") || query.Contains("Signature");
        if (hasHeader && (hasQueryV4 || hasQueryV2))
        {
            return Reject(S3Errors.InvalidArgument(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"));
        }
        if (hasHeader)
            return VerifyHeader(request, authorization, now);
        if (hasQueryV4)
            return VerifyPresigned(request, now);
        if (hasQueryV2)
            return Reject(S3Errors.UnsupportedAuthorization());
        return SigV4Outcome.Anonymous;
    }

    // ---- the Authorization header ----

    private SigV4Outcome VerifyHeader(S3RequestHead request, StringValues authorizationValues, DateTimeOffset now)
    {
        if (authorizationValues.Count != 1 || authorizationValues[0] is not { Length: > 0 } authorization)
            return Reject(S3Errors.AuthorizationHeaderMalformed("expected exactly one Authorization header."));
        if (authorization.Length > MaxAuthorizationLength)
            return Reject(S3Errors.AuthorizationHeaderMalformed("the header is too long."));
        if (!authorization.StartsWith(SigV4Signing.Algorithm + " ", StringComparison.Ordinal))
            return Reject(S3Errors.UnsupportedAuthorization());

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in authorization[(SigV4Signing.Algorithm.Length + 1)..].Split(','))
        {
            var item = part.AsSpan().Trim(' ');
            int eq = item.IndexOf('=');
            if (eq <= 0)
                return Reject(S3Errors.AuthorizationHeaderMalformed($"'{Printable(item)}' is not a Key=Value component."));
            var name = item[..eq];
            string value = item[(eq + 1)..].ToString();
            ref string? slot = ref credential;
            if (name.SequenceEqual("Credential"))
                slot = ref credential;
            else if (name.SequenceEqual("SignedHeaders"))
                slot = ref signedHeaders;
            else if (name.SequenceEqual("Signature"))
                slot = ref signature;
            else
                return Reject(S3Errors.AuthorizationHeaderMalformed($"unknown component '{Printable(name)}'."));
            if (slot is not null)
                return Reject(S3Errors.AuthorizationHeaderMalformed($"the component '{name}' appears twice."));
            slot = value;
        }
        if (credential is null || signedHeaders is null || signature is null)
            return Reject(S3Errors.AuthorizationHeaderMalformed("it must contain Credential, SignedHeaders and Signature."));

        if (!TryParseCredential(credential, out var scope, out string? credentialProblem))
            return Reject(S3Errors.AuthorizationHeaderMalformed(credentialProblem));
        if (!TryParseSignedHeaders(signedHeaders, out var headerNames, out string? headersProblem))
            return Reject(S3Errors.AuthorizationHeaderMalformed(headersProblem));
        Span<byte> provided = stackalloc byte[SigV4Signing.SignatureBytes];
        if (!SigV4Signing.TryParseHex32(signature, provided))
            return Reject(S3Errors.AuthorizationHeaderMalformed("the Signature must be 64 hexadecimal digits."));

        var headers = request.Headers;
        string amzDate;
        DateTimeOffset requestTime;
        if (headers.TryGetValue("x-amz-date", out var amzDateValues))
        {
            if (amzDateValues.Count != 1 || !SigV4Signing.TryParseAmzDate(amzDateValues[0], out requestTime))
                return Reject(S3Errors.AccessDenied(MissingDate));
            amzDate = amzDateValues[0]!;
        }
        else if (headers.TryGetValue("Date", out var dateValues))
        {
            if (dateValues.Count != 1 || !DateTimeOffset.TryParseExact(dateValues[0], "r", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal, out requestTime))
                return Reject(S3Errors.AccessDenied(MissingDate));
            amzDate = SigV4Signing.FormatAmzDate(requestTime);
        }
        else
        {
            return Reject(S3Errors.AccessDenied(MissingDate));
        }
        if (!amzDate.AsSpan(0, 8).SequenceEqual(scope.Date))
            return Reject(S3Errors.AuthorizationHeaderMalformed("Invalid credential date. Date is not the same as X-Amz-Date."));
        if ((now - requestTime).Duration() > MaxClockSkew)
        {
            return Reject(S3Errors.RequestTimeTooSkewed() with
            {
                Details =
                [
                    new("RequestTime", amzDate),
                    new("ServerTime", SigV4Signing.FormatAmzDate(now)),
                    new("MaxAllowedSkewMilliseconds", ((long)MaxClockSkew.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
                ],
            });
        }

        if (!headers.TryGetValue("x-amz-content-sha256", out var payloadValues))
            return Reject(S3Errors.MissingSecurityHeader("x-amz-content-sha256"));
        if (payloadValues.Count != 1 || !SigV4Signing.TryParsePayloadHash(payloadValues[0], out var mode, out byte[]? payloadSha256))
        {
            return Reject(S3Errors.InvalidArgument(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value."));
        }
        if (headers.ContainsKey("x-amz-security-token"))
            return Reject(S3Errors.InvalidToken());

        return Check(request, scope, amzDate, requestTime, headerNames, signedHeaders, payloadValues[0]!, mode, payloadSha256,
            provided, presigned: false);
    }

    // ---- presigned URLs ----

    private SigV4Outcome VerifyPresigned(S3RequestHead request, DateTimeOffset now)
    {
        var query = request.Query;
        if (query.Count("X-Amz-Algorithm") != 1 || query["X-Amz-Algorithm"] != SigV4Signing.Algorithm)
            return Reject(S3Errors.AuthorizationQueryParametersError("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""));
        foreach (string name in (ReadOnlySpan<string>)["X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"])
        {
            if (query.Count(name) != 1)
            {
                return Reject(S3Errors.AuthorizationQueryParametersError(
                    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters, each once."));
            }
        }
        string amzDate = query["X-Amz-Date"]!;
        if (!SigV4Signing.TryParseAmzDate(amzDate, out var requestTime))
            return Reject(S3Errors.AuthorizationQueryParametersError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""));
        string expiresText = query["X-Amz-Expires"]!;
        if (expiresText.StartsWith('-'))
            return Reject(S3Errors.AuthorizationQueryParametersError("X-Amz-Expires must be non-negative"));
        if (expiresText.Length is 0 or > 9 || !int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out int expires))
        {
            return Reject(expiresText.Length > 9 && expiresText.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0
                ? ExpiresTooLong()
                : S3Errors.AuthorizationQueryParametersError("X-Amz-Expires should be a number"));
        }
        if (expires == 0)
            return Reject(S3Errors.AuthorizationQueryParametersError("X-Amz-Expires must be at least 1 second"));
        if (expires > MaxPresignedExpirySeconds)
            return Reject(ExpiresTooLong());
        if (!TryParseCredential(query["X-Amz-Credential"]!, out var scope, out string? credentialProblem))
            return Reject(S3Errors.AuthorizationQueryParametersError("Error parsing the X-Amz-Credential parameter; " + credentialProblem));
        if (!amzDate.AsSpan(0, 8).SequenceEqual(scope.Date))
            return Reject(S3Errors.AuthorizationQueryParametersError("Invalid credential date. Date is not the same as X-Amz-Date."));
        string signedHeaders = query["X-Amz-SignedHeaders"]!;
        if (!TryParseSignedHeaders(signedHeaders, out var headerNames, out string? headersProblem))
            return Reject(S3Errors.AuthorizationQueryParametersError("Error parsing the X-Amz-SignedHeaders parameter; " + headersProblem));
        Span<byte> provided = stackalloc byte[SigV4Signing.SignatureBytes];
        if (!SigV4Signing.TryParseHex32(query["X-Amz-Signature"], provided))
            return Reject(S3Errors.AuthorizationQueryParametersError("X-Amz-Signature must be 64 hexadecimal digits."));
        if (query.Contains("X-Amz-Security-Token") || request.Headers.ContainsKey("x-amz-security-token"))
            return Reject(S3Errors.InvalidToken());

        if (now < requestTime - MaxClockSkew)
            return Reject(S3Errors.RequestNotYetValid());
        if (now > requestTime.AddSeconds(expires))
            return Reject(S3Errors.RequestExpired());

        // A presigned URL signs no body unless the client chose to sign x-amz-content-sha256 too.
        string payloadHash = SigV4Signing.UnsignedPayload;
        var mode = PayloadMode.Unsigned;
        byte[]? payloadSha256 = null;
        if (headerNames.Contains("x-amz-content-sha256"))
        {
            var values = request.Headers["x-amz-content-sha256"];
            if (values.Count != 1 || !SigV4Signing.TryParsePayloadHash(values[0], out mode, out payloadSha256) || mode is not (PayloadMode.Sha256 or PayloadMode.Unsigned))
                return Reject(S3Errors.InvalidRequest("A presigned request's x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256."));
            payloadHash = values[0]!;
        }
        return Check(request, scope, amzDate, requestTime, headerNames, signedHeaders, payloadHash, mode, payloadSha256, provided, presigned: true);
    }

    private static S3Error ExpiresTooLong() => S3Errors.AuthorizationQueryParametersError(
        "X-Amz-Expires must be less than a week (in seconds) that is; the given X-Amz-Expires must be less than 604800 seconds");

    // ---- shared ----

    private SigV4Outcome Check(S3RequestHead request, in Scope scope, string amzDate, DateTimeOffset requestTime, string[] headerNames,
        string signedHeaders, string payloadHash, PayloadMode mode, byte[]? payloadSha256, ReadOnlySpan<byte> provided, bool presigned)
    {
        var headers = request.Headers;
        if (Array.IndexOf(headerNames, "host") < 0)
            return Reject(Malformed(presigned, "'Host' must be a signed header."));

        List<string>? unsigned = null;
        foreach (var header in headers)
        {
            if (header.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)
                && Array.IndexOf(headerNames, header.Key.ToLowerInvariant()) < 0)
            {
                (unsigned ??= []).Add(header.Key.ToLowerInvariant());
            }
        }
        if (unsigned is not null)
        {
            return Reject(S3Errors.AccessDenied("There were headers present in the request which were not signed") with
            {
                Details = [new("HeadersNotSigned", string.Join(", ", unsigned))],
            });
        }

        var canonical = new StringBuilder(512);
        canonical.Append(request.Method).Append('\n');
        if (!S3Uri.TryAppendCanonicalPath(canonical, request.RawPath))
            return Reject(S3Errors.InvalidUri());
        canonical.Append('\n');
        AppendCanonicalQuery(canonical, request.Query, presigned);
        canonical.Append('\n');
        foreach (string name in headerNames)
        {
            if (!headers.TryGetValue(name, out var values))
                return Reject(S3Errors.SignatureDoesNotMatch($"The signed header '{name}' is not in the request."));
            canonical.Append(name).Append(':');
            AppendCanonicalHeaderValue(canonical, values);
            canonical.Append('\n');
        }
        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);

        string secret = _secretLookup(scope.AccessKeyId) ?? string.Empty;
        if (secret.Length == 0)
            return Reject(S3Errors.InvalidAccessKeyId() with { Details = [new("AWSAccessKeyId", scope.AccessKeyId)] });

        string canonicalRequest = canonical.ToString();
        string stringToSign = SigV4Signing.RequestStringToSign(amzDate, scope.Text, canonicalRequest);
        byte[] signingKey = SigV4Signing.DeriveSigningKey(secret, scope.DateText, scope.Region);
        Span<byte> expected = stackalloc byte[SigV4Signing.SignatureBytes];
        SigV4Signing.Sign(signingKey, stringToSign, expected);
        if (!SigV4Signing.SignatureEquals(expected, provided))
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(signingKey);
            return Reject(S3Errors.SignatureDoesNotMatch() with
            {
                Details =
                [
                    new("AWSAccessKeyId", scope.AccessKeyId),
                    new("StringToSign", stringToSign),
                    new("SignatureProvided", Convert.ToHexStringLower(provided)),
                    new("CanonicalRequest", canonicalRequest),
                ],
            });
        }

        return SigV4Outcome.Authenticated(new SigV4Authentication(scope.AccessKeyId, scope.Region, amzDate, requestTime, presigned, mode,
            payloadSha256, signingKey, Convert.ToHexStringLower(provided), headerNames));
    }

    private static S3Error Malformed(bool presigned, string problem) =>
        presigned ? S3Errors.AuthorizationQueryParametersError(problem) : S3Errors.AuthorizationHeaderMalformed(problem);

    private static SigV4Outcome Reject(S3Error error) => SigV4Outcome.Rejected(error);

    /// <summary>Name=value pairs, each name and value SigV4-encoded, sorted by name then value; the presigned signature left out.</summary>
    private static void AppendCanonicalQuery(StringBuilder sb, S3Query query, bool presigned)
    {
        var parameters = query.Parameters;
        if (parameters.Count == 0)
            return;
        var encoded = new List<(string Name, string Value)>(parameters.Count);
        foreach (var (name, value) in parameters)
        {
            if (presigned && name == "X-Amz-Signature")
                continue;
            encoded.Add((S3Uri.Encode(name, keepSlash: false), S3Uri.Encode(value, keepSlash: false)));
        }
        encoded.Sort(static (a, b) =>
        {
            int c = string.CompareOrdinal(a.Name, b.Name);
            return c != 0 ? c : string.CompareOrdinal(a.Value, b.Value);
        });
        for (int i = 0; i < encoded.Count; i++)
        {
            if (i > 0)
                sb.Append('&');
            sb.Append(encoded[i].Name).Append('=').Append(encoded[i].Value);
        }
    }

    /// <summary>Each value trimmed, inner runs of whitespace made one space, several values (header lines) joined with ','.</summary>
    private static void AppendCanonicalHeaderValue(StringBuilder sb, StringValues values)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (i > 0)
                sb.Append(',');
            var value = (values[i] ?? "").AsSpan().Trim();
            bool inSpace = false;
            foreach (char c in value)
            {
                if (char.IsWhiteSpace(c))
                {
                    inSpace = true;
                    continue;
                }
                if (inSpace)
                {
                    sb.Append(' ');
                    inSpace = false;
                }
                sb.Append(c);
            }
        }
    }

    /// <summary>AKID/yyyymmdd/region/s3/aws4_request.</summary>
    private static bool TryParseCredential(string credential, out Scope scope, [NotNullWhen(false)] out string? problem)
    {
        scope = default;
        problem = null;
        string[] parts = credential.Split('/');
        if (parts.Length != 5)
        {
            problem = "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
            return false;
        }
        string accessKeyId = parts[0], date = parts[1], region = parts[2], service = parts[3], terminator = parts[4];
        if (accessKeyId.Length is 0 or > MaxAccessKeyIdLength || accessKeyId.AsSpan().IndexOfAnyExceptInRange('!', '~') >= 0)
        {
            problem = "the access key id is not valid.";
            return false;
        }
        if (date.Length != 8 || date.AsSpan().IndexOfAnyExceptInRange('0', '9') >= 0
            || !DateTime.TryParseExact(date, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            problem = $"incorrect date format \"{Printable(date)}\". This date in the credential must be in the format \"yyyyMMdd\".";
            return false;
        }
        if (region.Length is 0 or > MaxRegionLength || !region.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            problem = "the region is not valid.";
            return false;
        }
        if (service != SigV4Signing.Service)
        {
            problem = $"incorrect service \"{Printable(service)}\". This endpoint belongs to \"s3\".";
            return false;
        }
        if (terminator != SigV4Signing.Terminator)
        {
            problem = $"incorrect terminal \"{Printable(terminator)}\". This endpoint uses \"aws4_request\".";
            return false;
        }
        scope = new Scope(accessKeyId, date, region, $"{date}/{region}/{service}/{terminator}");
        return true;
    }

    /// <summary>Lower-case header names separated by ';', each once. The order is the client's: it signed them in it.</summary>
    private static bool TryParseSignedHeaders(string signedHeaders, out string[] names, [NotNullWhen(false)] out string? problem)
    {
        names = [];
        problem = null;
        string[] parts = signedHeaders.Split(';');
        if (parts.Length > MaxSignedHeaders)
        {
            problem = $"at most {MaxSignedHeaders} headers may be signed.";
            return false;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in parts)
        {
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.')
                || !seen.Add(name))
            {
                problem = $"the SignedHeaders '{Printable(signedHeaders)}' must be distinct lower-case header names separated by ';'.";
                return false;
            }
        }
        names = parts;
        return true;
    }

    // Echoes client text in a message only when it is short printable ASCII.
    private static string Printable(ReadOnlySpan<char> text) =>
        text.Length <= 64 && text.IndexOfAnyExceptInRange(' ', '~') < 0 ? text.ToString() : "(not shown)";

    private readonly record struct Scope(string AccessKeyId, string DateText, string Region, string Text)
    {
        public ReadOnlySpan<char> Date => DateText;
    }
}
