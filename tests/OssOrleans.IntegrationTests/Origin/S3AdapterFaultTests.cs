using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Origin;

/// <summary>The S3 adapter's defences (strict ranges, bounded retries, clear errors) against injected origin faults.</summary>
public sealed class S3AdapterFaultTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>, IDisposable
{
    private const string Bucket = "contract";
    private OriginSimulator Sim => fixture.Simulator;

    private (string Key, byte[] Data, string ETag) Put(string name, int size = 256 * 1024)
    {
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        var key = "faults/" + name;
        var info = Sim.PutObject(Bucket, key, data);
        return (key, data, info.ETag);
    }

    public void Dispose() => Sim.Faults.Clear();

    [Fact]
    public async Task ReadRange_503Burst_RetriesAndReturnsExactBytes()
    {
        var (key, data, etag) = Put("burst.bin");
        long getsBefore = Sim.Counters.Gets;
        Sim.Faults.Fail503(2, FaultScope.RangedGet);

        var buffer = new byte[1000];
        await fixture.Store.ReadRangeAsync(Bucket, key, etag, 500, buffer);

        Assert.Equal(data.AsSpan(500, 1000).ToArray(), buffer);
        Assert.Equal(3, Sim.Counters.Gets - getsBefore);
    }

    [Fact]
    public async Task ReadRange_503BeyondAttempts_ThrowsOriginUnavailableNamingTheObject()
    {
        var (key, _, etag) = Put("always-503.bin");
        Sim.Faults.Fail503(100, FaultScope.RangedGet);

        var ex = await Assert.ThrowsAsync<OriginUnavailableException>(() => fixture.Store.ReadRangeAsync(Bucket, key, etag, 0, new byte[10]));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Contains("4 attempts", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRange_ConnectionResetAndTruncatedBody_RetriesWholeRange()
    {
        var (key, data, etag) = Put("reset.bin", 1 << 20);
        Sim.Faults.ResetConnection(1, FaultScope.RangedGet, afterBodyBytes: 1000);
        Sim.Faults.TruncateBody(1, FaultScope.RangedGet);

        var buffer = new byte[data.Length];
        await fixture.Store.ReadRangeAsync(Bucket, key, etag, 0, buffer);

        Assert.Equal(data, buffer);
        Assert.Equal(0, Sim.Faults.Pending);
    }

    [Fact]
    public async Task ReadRange_TruncatedEveryTime_ThrowsInsteadOfReturningShortData()
    {
        var (key, _, etag) = Put("short.bin", 1 << 20);
        Sim.Faults.TruncateBody(100, FaultScope.RangedGet);

        var ex = await Assert.ThrowsAnyAsync<ObjectStoreException>(() => fixture.Store.ReadRangeAsync(Bucket, key, etag, 0, new byte[1 << 20]));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRange_200InsteadOf206_ThrowsProtocolError()
    {
        var (key, _, etag) = Put("whole.bin");
        Sim.Faults.Return200InsteadOf206(100);

        var ex = await Assert.ThrowsAsync<OriginProtocolException>(() => fixture.Store.ReadRangeAsync(Bucket, key, etag, 100, new byte[100]));
        Assert.Contains("200", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRange_WrongContentRange_ThrowsProtocolError()
    {
        var (key, _, etag) = Put("shifted.bin");
        Sim.Faults.WrongContentRange(100, shiftBytes: 7);

        var ex = await Assert.ThrowsAsync<OriginProtocolException>(() => fixture.Store.ReadRangeAsync(Bucket, key, etag, 100, new byte[100]));
        Assert.Contains("Content-Range", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRange_OneWrongAnswerThenRight_ReturnsExactBytes()
    {
        var (key, data, etag) = Put("glitch.bin");
        Sim.Faults.Return200InsteadOf206(1);

        var buffer = new byte[100];
        await fixture.Store.ReadRangeAsync(Bucket, key, etag, 100, buffer);
        Assert.Equal(data.AsSpan(100, 100).ToArray(), buffer);
    }

    [Fact]
    public async Task ListPage_OssModeWithItsDefaultOf100Keys_StillReturns1000PerPage()
    {
        var keys = Enumerable.Range(0, 250).Select(i => $"ossmode/k{i:D4}").ToList();
        Sim.PutSharedObjects(Bucket, keys, [1, 2, 3]);
        Sim.Settings.OssMode = true;
        try
        {
            var page = await fixture.Store.ListPageAsync(new ListRequest(Bucket, "ossmode/"));
            Assert.Equal(keys, page.Entries.Select(e => e.Key));
            Assert.False(page.IsTruncated);
        }
        finally
        {
            Sim.Settings.OssMode = false;
        }
    }

    [Fact]
    public async Task ReadRange_OssModeSimulator_StrictRangesStillHold()
    {
        var (key, data, etag) = Put("oss-range.bin");
        Sim.Settings.OssMode = true;
        try
        {
            var buffer = new byte[4096];
            await fixture.Store.ReadRangeAsync(Bucket, key, etag, data.Length - 4096, buffer);
            Assert.Equal(data.AsSpan(data.Length - 4096).ToArray(), buffer);
        }
        finally
        {
            Sim.Settings.OssMode = false;
        }
    }

    [Fact]
    public async Task AnyCall_UnreachableEndpoint_ThrowsOriginUnavailableNamingTheEndpoint()
    {
        int port = ClosedPort();
        using var store = new S3ObjectStore(new S3StoreOptions
        {
            Endpoint = $"http://127.0.0.1:{port}",
            AccessKeyId = "id",
            AccessKeySecret = "secret",
            BaseDelay = TimeSpan.FromMilliseconds(5),
            MaxDelay = TimeSpan.FromMilliseconds(20),
        });

        var ex = await Assert.ThrowsAsync<OriginUnavailableException>(() => store.HeadAsync("bucket", "key"));
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failures_WithSecretCredentials_NeverLogOrThrowTheSecret()
    {
        const string secret = "SECRET-do-not-log-5d1f0c";
        const string token = "TOKEN-do-not-log-77aa31";
        var sink = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(sink).SetMinimumLevel(LogLevel.Trace));
        using var store = new S3ObjectStore(new S3StoreOptions
        {
            Endpoint = Sim.Endpoint.ToString(),
            AccessKeyId = "AKIDEXAMPLE",
            AccessKeySecret = secret,
            SessionToken = token,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(5),
        }, factory.CreateLogger<S3ObjectStore>());
        var (key, _, etag) = Put("secret.bin");
        var errors = new List<Exception>();

        Sim.Faults.Fail503(100);
        errors.Add(await Assert.ThrowsAnyAsync<Exception>(() => store.ReadRangeAsync(Bucket, key, etag, 0, new byte[10])));
        Sim.Faults.Clear();
        errors.Add(await Assert.ThrowsAnyAsync<Exception>(() => store.HeadAsync(Bucket, "faults/missing")));
        errors.Add(await Assert.ThrowsAnyAsync<Exception>(() => store.ReadRangeAsync(Bucket, key, "\"stale\"", 0, new byte[10])));
        Sim.Faults.WrongContentRange(100);
        errors.Add(await Assert.ThrowsAnyAsync<Exception>(() => store.ReadRangeAsync(Bucket, key, etag, 0, new byte[10])));

        Assert.NotEmpty(sink.Messages);
        foreach (var text in sink.Messages.Concat(errors.Select(e => e.ToString())).Append(store.Name))
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Keeps every formatted log message and exception text written through it.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages
    {
        get { lock (_messages) return [.. _messages]; }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._messages)
                owner._messages.Add(formatter(state, exception) + (exception is null ? "" : "\n" + exception));
        }
    }
}
