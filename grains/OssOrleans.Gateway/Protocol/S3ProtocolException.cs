namespace OssOrleans.Gateway.Protocol;

/// <summary>
/// Raised where an S3 error cannot be returned as a value: from a request body stream's <c>Read</c>, or from a
/// request document reader. The caller answers with <see cref="Error"/>.
/// </summary>
internal sealed class S3ProtocolException : Exception
{
    public S3ProtocolException(S3Error error)
        : base($"{error.Code}: {error.Message}")
    {
        Error = error;
    }

    public S3Error Error { get; }
}
