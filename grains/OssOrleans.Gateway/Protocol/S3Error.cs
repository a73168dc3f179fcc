namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// An error as an S3 client expects it: the code it switches on (<c>SignatureDoesNotMatch</c>, <c>NoSuchKey</c>...),
/// the HTTP status that goes with it, and a message for people. <see cref="Details"/> are extra elements of the
/// <c>&lt;Error&gt;</c> document (S3 adds some, such as <c>HeadersNotSigned</c>); none may carry a secret or an
/// expected signature, because all of it goes back to whoever sent the request.
/// </summary>
internal sealed record S3Error(string Code, int StatusCode, string Message)
{
    public IReadOnlyList<KeyValuePair<string, string>> Details { get; init; } = [];

    public S3ProtocolException ToException() => new(this);

    public override string ToString() => $"{StatusCode} {Code}: {Message}";
}
