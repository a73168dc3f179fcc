namespace OssOrleans.Gateway.Writing;

/// <summary>
/// A whole object to write through the cluster: where, how many bytes the source gives, and how. <see cref="Finish"/>
/// runs once every byte was read and before anything is committed (a request body's last checks and framing);
/// <see cref="BeforeCommit"/> right before the commit.
/// </summary>
internal sealed record WriteRequest(ObjectUri Uri, long Length, bool CreateOnly, string? ContentType)
{
    public Func<CancellationToken, ValueTask>? Finish { get; init; }

    /// <summary>Runs just before the write is committed at the origin (the conditions of a conditional write).</summary>
    public Func<CancellationToken, Task>? BeforeCommit { get; init; }
}
