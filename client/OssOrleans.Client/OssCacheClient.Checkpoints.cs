namespace OssOrleans.Client;

public sealed partial class OssCacheClient
{
    /// <summary>
    /// Opens an object for writing through the cluster (a checkpoint): parts are uploaded in parallel by the silos, and the
    /// object becomes visible only when <see cref="OssWriteStream.CompleteAsync"/> succeeds. Disposing the stream without
    /// completing it, an error, or the cancellation of <paramref name="cancellationToken"/> aborts the upload. With
    /// <see cref="WriteOptions.WriteThrough"/> (the default) the written bytes stay in the cluster as the new version's
    /// shards, so reading the object back right after asks the origin for no bytes.
    /// </summary>
    /// <example><code>
    /// await using var w = await oss.OpenWriteAsync("oss://bucket/ckpt/step-1000.pt");
    /// await model.SaveAsync(w);
    /// await w.CompleteAsync();   // without this, disposing aborts
    /// </code></example>
    public async Task<OssWriteStream> OpenWriteAsync(string uri, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        var target = ObjectUri.Parse(uri).RequireObject();
        options ??= new WriteOptions();
        options.Validate();
        var grain = Cluster.GetGrain<IUploadGrain>(TenantKeys.Owned(Tenant, Guid.NewGuid().ToString("N")));
        var session = await grain.StartAsync(target, options.CreateOnly, options.PartSize).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (session.Targets.Length == 0)
        {
            await grain.AbortAsync(session).ConfigureAwait(false);
            throw new InvalidOperationException("no silo of the cluster has a data plane to upload to");
        }
        var uploader = new PartUploader(Shards.Http, session, options.WriteThrough);
        return new OssWriteStream(grain, session, uploader, session.PartSize, options.UploadConcurrency, cancellationToken);
    }

    /// <summary>
    /// Starts a cluster job that prefetches every object under <paramref name="prefixUri"/> (<c>oss://bucket/prefix</c>) into
    /// the cluster's cache, in key order. Returns at once; follow or cancel the job through the returned handle. Objects
    /// already cached are not fetched again.
    /// </summary>
    public Task<WarmJob> WarmAsync(string prefixUri, CancellationToken cancellationToken = default) =>
        WarmAsync(prefixUri, new WarmOptions(), cancellationToken);

    /// <inheritdoc cref="WarmAsync(string, CancellationToken)"/>
    public async Task<WarmJob> WarmAsync(string prefixUri, WarmOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var prefix = ObjectUri.Parse(prefixUri);
        string id = TenantKeys.Owned(Tenant, Guid.NewGuid().ToString("N"));
        var grain = Cluster.GetGrain<IWarmJobGrain>(id);
        await grain.StartAsync(prefix, options.ObjectConcurrency).WaitAsync(cancellationToken).ConfigureAwait(false);
        return new WarmJob(id, grain);
    }

    /// <summary>A warm job started earlier (by this or another process), by its id.</summary>
    public WarmJob GetWarmJob(string jobId)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return new WarmJob(jobId, Cluster.GetGrain<IWarmJobGrain>(jobId));
    }

    /// <summary>Every warm job the cluster knows, newest first (running ones, and finished ones for an hour).</summary>
    public Task<IReadOnlyList<WarmJobProgress>> ListWarmJobsAsync(CancellationToken cancellationToken = default) =>
        Cluster.GetGrain<IWarmJobRegistryGrain>(0).ListAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Materializes every object under <paramref name="prefixUri"/> (a directory: <c>oss://bucket/models/llama</c> means the
    /// keys under <c>models/llama/</c>) into <paramref name="localDir"/>, read from the cluster: shards of all files in
    /// parallel, written in place at their offsets, each file under a temporary name until it is complete and its size
    /// checked. Every key is checked before anything is written; keys that could escape or corrupt the directory ('..',
    /// absolute paths, NUL, a trailing '/', a file and a directory of the same name...) fail with
    /// <see cref="UnsafeObjectKeyException"/>. Stale content: a file is skipped only when an earlier run recorded the same
    /// ETag and size for it (in <c>.ossorleans-prepare.json</c>) and its size on disk matches; otherwise it is written
    /// again. Local files not under the prefix are left alone.
    /// </summary>
    public Task<PrepareResult> PrepareDirectoryAsync(string prefixUri, string localDir, PrepareOptions? options = null,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var prefix = ObjectUri.Parse(prefixUri);
        ArgumentException.ThrowIfNullOrEmpty(localDir);
        options ??= new PrepareOptions();
        options.Validate();
        return new DirectoryPreparer(this, options, progress).RunAsync(prefix, localDir, cancellationToken);
    }
}
