using System.Diagnostics.CodeAnalysis;

namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// A request's query string, decoded once and kept in the order sent: the one reading of it that the signature check,
/// the operation and the arguments all use. Names are case-sensitive, as in S3 (<c>uploadId</c>, <c>X-Amz-Date</c>).
/// A parameter without '=' (<c>?uploads</c>) has the empty value. '+' reads as a space, as in any form-encoded query;
/// SDKs always send <c>%20</c> and <c>%2B</c>, so only hand-built URLs meet the difference.
/// </summary>
internal sealed class S3Query
{
    /// <summary>Longer than any presigned URL with a session token; Kestrel's request line limit (8 KiB) is lower still.</summary>
    public const int MaxLength = 32 * 1024;

    public const int MaxParameters = 128;

    private readonly KeyValuePair<string, string>[] _parameters;

    private S3Query(KeyValuePair<string, string>[] parameters) => _parameters = parameters;

    public static S3Query Empty { get; } = new([]);

    public IReadOnlyList<KeyValuePair<string, string>> Parameters => _parameters;

    /// <summary>The first value of <paramref name="name"/>, or null when absent.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var p in _parameters)
            {
                if (p.Key == name)
                    return p.Value;
            }
            return null;
        }
    }

    public bool Contains(string name) => this[name] is not null;

    public int Count(string name)
    {
        int n = 0;
        foreach (var p in _parameters)
        {
            if (p.Key == name)
                n++;
        }
        return n;
    }

    /// <summary>Parses a raw query string, with or without its leading '?'.</summary>
    public static bool TryParse(ReadOnlySpan<char> rawQuery, [NotNullWhen(true)] out S3Query? query, [NotNullWhen(false)] out S3Error? error)
    {
        query = null;
        error = null;
        if (!rawQuery.IsEmpty && rawQuery[0] == '?')
            rawQuery = rawQuery[1..];
        if (rawQuery.IsEmpty)
        {
            query = Empty;
            return true;
        }
        if (rawQuery.Length > MaxLength)
        {
            error = S3Errors.InvalidUri();
            return false;
        }
        var parameters = new List<KeyValuePair<string, string>>(8);
        foreach (Range range in rawQuery.Split('&'))
        {
            var segment = rawQuery[range];
            if (segment.IsEmpty)
                continue;
            if (parameters.Count == MaxParameters)
            {
                error = S3Errors.InvalidArgument($"A request may carry at most {MaxParameters} query parameters.");
                return false;
            }
            int eq = segment.IndexOf('=');
            var rawName = eq < 0 ? segment : segment[..eq];
            var rawValue = eq < 0 ? [] : segment[(eq + 1)..];
            if (!S3Uri.TryDecode(rawName, plusIsSpace: true, out string? name) || !S3Uri.TryDecode(rawValue, plusIsSpace: true, out string? value))
            {
                error = S3Errors.InvalidUri();
                return false;
            }
            parameters.Add(new(name, value));
        }
        query = parameters.Count == 0 ? Empty : new S3Query([.. parameters]);
        return true;
    }
}
