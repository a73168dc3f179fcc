namespace OssOrleans.Gateway.Protocol;

internal enum PreconditionResult
{
    Proceed,

    /// <summary>304 Not Modified (GET and HEAD only), with no body.</summary>
    NotModified,

    /// <summary>412 <c>PreconditionFailed</c>.</summary>
    PreconditionFailed,
}
