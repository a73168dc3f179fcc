using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Origin;

public sealed class LocalStoreContractTests : ObjectStoreContractTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "oss-local-contract-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly LocalDirectoryObjectStore _store;

    public LocalStoreContractTests()
    {
        _store = new LocalDirectoryObjectStore(_root);
        // A bucket of the local store is a folder; S3 servers have the bucket before the first object, too.
        Directory.CreateDirectory(Path.Combine(_root, "contract"));
    }

    protected override IObjectStore Store => _store;

    protected override string Bucket => "contract";

    protected override string? EmptySegmentGap => "the local store maps keys to file paths and refuses empty path segments";

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}

public sealed class S3rverFixture : IAsyncLifetime
{
    public S3rverProcess Server { get; private set; } = null!;

    public S3ObjectStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await S3rverProcess.StartAsync("contract");
        Store = new S3ObjectStore(new S3StoreOptions
        {
            Endpoint = Server.Endpoint.ToString(),
            AccessKeyId = Server.AccessKeyId,
            AccessKeySecret = Server.SecretAccessKey,
            BaseDelay = TimeSpan.FromMilliseconds(10),
        });
    }

    public async Task DisposeAsync()
    {
        Store.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>The contract against real s3rver 3.7.1 from npm, through the S3 adapter.</summary>
public sealed class S3rverContractTests(S3rverFixture fixture) : ObjectStoreContractTests, IClassFixture<S3rverFixture>
{
    protected override IObjectStore Store => fixture.Store;

    protected override string Bucket => "contract";

    protected override string? AbortGap => "s3rver 3.7.1 answers AbortMultipartUpload with 405";

    protected override string? UploadListingGap => "s3rver 3.7.1 answers ListParts with 405 and does not implement ListMultipartUploads";

    protected override string? CreateOnlyGap => "s3rver 3.7.1 ignores If-None-Match on PutObject";

    protected override string? EmptySegmentGap => "s3rver 3.7.1 stores objects as files and cannot hold keys with empty path segments";

    protected override string? FirstByteRangeGap => "s3rver 3.7.1 treats 'bytes=0-0' as an open range and sends the whole object (the adapter rejects that answer, as it should)";
}

public sealed class SimulatorFixture : IAsyncLifetime
{
    public OriginSimulator Simulator { get; private set; } = null!;

    public S3ObjectStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Simulator = await OriginSimulator.StartNewAsync(null, "contract");
        Store = new S3ObjectStore(new S3StoreOptions
        {
            Endpoint = Simulator.Endpoint.ToString(),
            AccessKeyId = "sim",
            AccessKeySecret = "sim-secret",
            BaseDelay = TimeSpan.FromMilliseconds(5),
            MaxDelay = TimeSpan.FromMilliseconds(50),
        });
    }

    public async Task DisposeAsync()
    {
        Store.Dispose();
        await Simulator.DisposeAsync();
    }
}

/// <summary>The same contract against the origin simulator, so it cannot drift from s3rver's behaviour.</summary>
public sealed class SimulatorContractTests(SimulatorFixture fixture) : ObjectStoreContractTests, IClassFixture<SimulatorFixture>
{
    protected override IObjectStore Store => fixture.Store;

    protected override string Bucket => "contract";
}
