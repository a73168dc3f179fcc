namespace OssOrleans.Grains.Cache;

/// <summary>The base URL of this silo's data plane, known once its server has bound a port, and its local socket.</summary>
internal sealed class DataPlaneEndpoint
{
    private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> UrlAsync => _url.Task;

    public string? Url => _url.Task.IsCompletedSuccessfully ? _url.Task.Result : null;

    /// <summary>The Unix domain socket the data plane also listens on (with what proves it is this silo's), or null; set before the URL.</summary>
    public LocalEndpoint? Local { get; private set; }

    public void Set(string url, LocalEndpoint? local = null)
    {
        Local = local;
        _url.TrySetResult(url.TrimEnd('/'));
    }

    public void Fail(Exception ex) => _url.TrySetException(ex);
}
