using System.Diagnostics.CodeAnalysis;

namespace OssOrleans.Gateway.Protocol;

/// <summary>What <see cref="SigV4Verifier"/> made of a request: anonymous, authenticated, or rejected with the S3 error to answer.</summary>
internal sealed class SigV4Outcome
{
    private SigV4Outcome(SigV4OutcomeKind kind, SigV4Authentication? authentication, S3Error? error)
    {
        Kind = kind;
        Authentication = authentication;
        Error = error;
    }

    public static SigV4Outcome Anonymous { get; } = new(SigV4OutcomeKind.Anonymous, null, null);

    public SigV4OutcomeKind Kind { get; }

    public SigV4Authentication? Authentication { get; }

    public S3Error? Error { get; }

    [MemberNotNullWhen(true, nameof(Authentication))]
    public bool IsAuthenticated => Kind == SigV4OutcomeKind.Authenticated;

    [MemberNotNullWhen(true, nameof(Error))]
    public bool IsRejected => Kind == SigV4OutcomeKind.Rejected;

    public bool IsAnonymous => Kind == SigV4OutcomeKind.Anonymous;

    public static SigV4Outcome Authenticated(SigV4Authentication authentication) => new(SigV4OutcomeKind.Authenticated, authentication, null);

    public static SigV4Outcome Rejected(S3Error error) => new(SigV4OutcomeKind.Rejected, null, error);

    public override string ToString() => Kind switch
    {
        SigV4OutcomeKind.Authenticated => Authentication!.ToString(),
        SigV4OutcomeKind.Rejected => "rejected: " + Error,
        _ => "anonymous",
    };
}
