namespace OssOrleans.Gateway.Protocol;

internal enum SigV4OutcomeKind
{
    /// <summary>No Authorization header and no signature in the query: the caller decides whether anonymous access is allowed.</summary>
    Anonymous,

    Authenticated,

    Rejected,
}
