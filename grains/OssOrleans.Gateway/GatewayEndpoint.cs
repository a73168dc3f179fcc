namespace OssOrleans.Gateway;

/// <summary>The addresses the S3 gateway listens on, once it has bound them (for the silo's start banner and for tests).</summary>
public sealed class GatewayEndpoint
{
    private readonly TaskCompletionSource<IReadOnlyList<string>> _urls = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The bound URLs; never completes when the gateway is disabled.</summary>
    public Task<IReadOnlyList<string>> UrlsAsync => _urls.Task;

    /// <summary>The first bound URL (http://127.0.0.1:port), or null before the gateway listens.</summary>
    public string? Url => _urls.Task.IsCompletedSuccessfully ? _urls.Task.Result[0] : null;

    internal void Set(IReadOnlyList<string> urls) => _urls.TrySetResult(urls);

    internal void Fail(Exception ex) => _urls.TrySetException(ex);
}
