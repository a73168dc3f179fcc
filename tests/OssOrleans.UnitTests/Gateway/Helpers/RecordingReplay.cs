using System.Text;
using Microsoft.AspNetCore.Http;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// Replays a recorded client request through a fresh verifier and body decoder: as recorded it must be accepted and
/// decode to what the client sent; with any single byte changed (in the target, a signed header, the body, the
/// trailer) it must be refused with a typed S3 error.
/// </summary>
internal static class RecordingReplay
{
    private static readonly SigV4Verifier Verifier = new(RecordingS3Server.Lookup);

    public static async Task<(SigV4Authentication? Auth, byte[] Decoded)> AcceptAsync(RecordedRequest request)
    {
        var (outcome, decoded, error) = await RunAsync(request.Method, request.RawTarget, request.Headers, request.Body, request.ContentLength);
        Assert.True(outcome.IsAuthenticated, $"{request}: {outcome}");
        Assert.True(error is null, $"{request}: body refused: {error}");
        return (outcome.Authentication, decoded);
    }

    /// <summary>Asserts that every one-byte change tried is refused; returns the codes seen, for the test to show.</summary>
    public static async Task<IReadOnlyList<string>> AssertChangesRefusedAsync(RecordedRequest request)
    {
        var codes = new List<string>();

        // The target: the last character of the path, and of the query when there is one.
        foreach (string target in ChangedTargets(request.RawTarget))
            codes.Add(await RefusedAsync(request, target, request.Headers, request.Body, "target " + target));

        // A signed header other than host and the date (a changed date may fall outside the skew instead).
        var auth = (await AcceptAsync(request)).Auth;
        foreach (string name in auth?.SignedHeaders.Where(h => h is not ("host" or "x-amz-date" or "content-length")) ?? [])
        {
            var headers = Copy(request.Headers);
            string value = headers[name].ToString();
            headers[name] = value.Length == 0 ? "x" : value[..^1] + (value[^1] == 'a' ? 'b' : 'a');
            codes.Add(await RefusedAsync(request, request.RawTarget, headers, request.Body, "header " + name));
        }

        // An UNSIGNED-PAYLOAD body with no Content-MD5 or checksum is protected by nothing but TLS: a changed byte
        // cannot be seen, by S3 either.
        bool bodyProtected = auth?.PayloadMode != PayloadMode.Unsigned || request.Headers.ContentMD5.Count > 0
            || request.Headers.Any(h => S3Checksum.TryParseHeaderName(h.Key, out _));
        if (request.Body.Length > 0 && bodyProtected)
        {
            // A byte of object data (a lower-case letter here, so not framing), and the trailer's checksum when there is one.
            int data = Array.FindIndex(request.Body, request.Body.Length / 2, b => b is >= (byte)'a' and <= (byte)'z');
            if (data < 0)
                data = request.Body.Length / 2;
            codes.Add(await RefusedAsync(request, request.RawTarget, request.Headers, Changed(request.Body, data), $"body byte {data}"));
            string text = Encoding.Latin1.GetString(request.Body);
            int checksum = text.LastIndexOf("x-amz-checksum-", StringComparison.Ordinal);
            if (checksum >= 0)
            {
                int value = text.IndexOf(':', checksum) + 2;
                codes.Add(await RefusedAsync(request, request.RawTarget, request.Headers, Changed(request.Body, value), "trailer checksum"));
            }
        }
        return codes;
    }

    /// <summary>Replays every upload and download a client made, each accepted as sent and refused when changed.</summary>
    public static async Task ReplayAllAsync(RecordingS3Server server, Xunit.Abstractions.ITestOutputHelper output)
    {
        foreach (var request in server.Requests.Where(r => r.Error is null && r.Operation is S3Operation.PutObject or S3Operation.UploadPart or S3Operation.GetObject))
        {
            var (_, decoded) = await AcceptAsync(request);
            if (request.Headers.ContainsKey("x-amz-trailer"))
                output.WriteLine("body ends: " + System.Text.Encoding.Latin1.GetString(request.Body[^Math.Min(80, request.Body.Length)..]).Replace("\r", "\\r").Replace("\n", "\\n"));
            if (request.Decoded is not null)
                Assert.Equal(request.Decoded, decoded);
            output.WriteLine($"{request.Method} {request.RawTarget[..Math.Min(60, request.RawTarget.Length)]}: changes refused with "
                + string.Join(", ", await AssertChangesRefusedAsync(request)));
        }
    }

    private static async Task<string> RefusedAsync(RecordedRequest request, string target, IHeaderDictionary headers, byte[] body, string change)
    {
        var (outcome, _, error) = await RunAsync(request.Method, target, headers, body, body.Length == request.Body.Length ? request.ContentLength : body.Length);
        var refusal = outcome.IsRejected ? outcome.Error : error;
        Assert.True(refusal is not null, $"{request}: accepted after changing {change}");
        return refusal.Code;
    }

    private static async Task<(SigV4Outcome Outcome, byte[] Decoded, S3Error? Error)> RunAsync(string method, string target, IHeaderDictionary headers,
        byte[] body, long? contentLength)
    {
        if (!S3RequestHead.TryCreate(method, target, headers, out var head, out var headError))
            return (SigV4Outcome.Rejected(headError), [], headError);
        var outcome = Verifier.Verify(head, DateTimeOffset.UtcNow);
        if (!outcome.IsAuthenticated)
            return (outcome, [], outcome.Error);
        if (method is not ("PUT" or "POST"))
            return (outcome, [], null);
        if (!S3RequestBody.TryOpen(new MemoryStream(body), headers, contentLength, outcome.Authentication, out var stream, out var error))
            return (outcome, [], error);
        try
        {
            var output = new MemoryStream();
            await stream.CopyToAsync(output);
            return (outcome, output.ToArray(), null);
        }
        catch (S3ProtocolException e)
        {
            return (outcome, [], e.Error);
        }
    }

    private static IEnumerable<string> ChangedTargets(string rawTarget)
    {
        int question = rawTarget.IndexOf('?');
        int pathEnd = question < 0 ? rawTarget.Length : question;
        yield return rawTarget[..(pathEnd - 1)] + Other(rawTarget[pathEnd - 1]) + rawTarget[pathEnd..];
        if (question >= 0 && question < rawTarget.Length - 1 && !rawTarget.EndsWith('='))
        {
            // The last character of the first parameter's value (a signature parameter changes differently: it must
            // stay hex).
            int end = rawTarget.IndexOf('&', question);
            end = end < 0 ? rawTarget.Length : end;
            if (rawTarget[end - 1] != '=')
                yield return rawTarget[..(end - 1)] + Other(rawTarget[end - 1]) + rawTarget[end..];
        }
    }

    private static char Other(char c) => c switch
    {
        >= '0' and < '9' => (char)(c + 1),
        '9' => '0',
        >= 'a' and < 'z' => (char)(c + 1),
        >= 'A' and < 'Z' => (char)(c + 1),
        _ => 'a',
    };

    private static byte[] Changed(byte[] body, int position)
    {
        byte[] changed = (byte[])body.Clone();
        changed[position] = (byte)Other((char)changed[position]);
        return changed;
    }

    private static HeaderDictionary Copy(IHeaderDictionary headers)
    {
        var copy = new HeaderDictionary();
        foreach (var (name, values) in headers)
            copy[name] = values;
        return copy;
    }
}
