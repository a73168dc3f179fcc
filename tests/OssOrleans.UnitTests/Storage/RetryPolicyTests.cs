using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using OssOrleans.Storage;

namespace OssOrleans.UnitTests.Storage;

public class RetryPolicyTests
{
    private static RetryPolicy NoWait(int maxAttempts = 4)
        => new(maxAttempts, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMinutes(1));

    [Fact]
    public async Task ExecuteAsync_TransientThenSuccess_ReturnsResultAfterRetries()
    {
        int calls = 0;
        var events = new List<RetryEvent>();

        int result = await NoWait().ExecuteAsync((attempt, _) =>
        {
            calls++;
            return attempt < 3 ? throw FakeS3.Error(HttpStatusCode.ServiceUnavailable, "SlowDown") : Task.FromResult(42);
        }, "test GET b/k", events.Add, CancellationToken.None);

        Assert.Equal(42, result);
        Assert.Equal(3, calls);
        Assert.Equal([1, 2], events.Select(e => e.FailedAttempt));
        Assert.All(events, e => Assert.Equal(FailureKind.Transient, e.Kind));
    }

    [Fact]
    public async Task ExecuteAsync_AlwaysTransient_StopsAtMaxAttemptsWithOriginUnavailable()
    {
        int calls = 0;
        var last = new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused));

        var ex = await Assert.ThrowsAsync<OriginUnavailableException>(() => NoWait(3).ExecuteAsync<int>((_, _) =>
        {
            calls++;
            throw last;
        }, "s3:http://127.0.0.1:1 GET b/k", null, CancellationToken.None));

        Assert.Equal(3, calls);
        Assert.Same(last, ex.InnerException);
        Assert.Contains("s3:http://127.0.0.1:1 GET b/k", ex.Message);
        Assert.Contains("3 attempts", ex.Message);
        Assert.Contains("Connection refused", ex.Message);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, "NoSuchKey")]
    [InlineData(HttpStatusCode.Forbidden, "AccessDenied")]
    [InlineData(HttpStatusCode.BadRequest, "InvalidArgument")]
    [InlineData(HttpStatusCode.PreconditionFailed, "PreconditionFailed")]
    public async Task ExecuteAsync_Permanent4xx_NotRetriedAndRethrownAsIs(HttpStatusCode status, string code)
    {
        int calls = 0;
        var error = FakeS3.Error(status, code);

        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => NoWait().ExecuteAsync<int>((_, _) =>
        {
            calls++;
            throw error;
        }, "test", null, CancellationToken.None));

        Assert.Same(error, thrown);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ExecuteAsync_ProtocolErrorEveryTime_ThrowsOriginProtocolException()
    {
        int calls = 0;

        var ex = await Assert.ThrowsAsync<OriginProtocolException>(() => NoWait(2).ExecuteAsync<int>((_, _) =>
        {
            calls++;
            throw new OriginProtocolException("test GET b/k bytes 0-9: expected HTTP 206, got 200");
        }, "test GET b/k", null, CancellationToken.None));

        Assert.Equal(2, calls);
        Assert.StartsWith("test GET b/k bytes 0-9: expected HTTP 206, got 200", ex.Message);
    }

    [Fact]
    public async Task ExecuteAsync_ProtocolErrorOnce_SucceedsOnRetry()
    {
        int result = await NoWait().ExecuteAsync((attempt, _) =>
            attempt == 1 ? throw new OriginProtocolException("glitch") : Task.FromResult(7), "test", null, CancellationToken.None);

        Assert.Equal(7, result);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, "InternalError", true)]
    [InlineData(HttpStatusCode.BadGateway, "BadGateway", true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "SlowDown", true)]
    [InlineData(HttpStatusCode.GatewayTimeout, "GatewayTimeout", true)]
    [InlineData(HttpStatusCode.RequestTimeout, "RequestTimeout", true)]
    [InlineData(HttpStatusCode.TooManyRequests, "TooManyRequests", true)]
    [InlineData(HttpStatusCode.BadRequest, "RequestTimeout", true)]
    [InlineData(HttpStatusCode.Forbidden, "SlowDown", true)]
    [InlineData(HttpStatusCode.Forbidden, "SignatureDoesNotMatch", false)]
    [InlineData(HttpStatusCode.NotFound, "NoSuchKey", false)]
    [InlineData(HttpStatusCode.Conflict, "FileAlreadyExists", false)]
    [InlineData(HttpStatusCode.RequestedRangeNotSatisfiable, "InvalidRange", false)]
    [InlineData(HttpStatusCode.NotImplemented, "NotImplemented", false)]
    public void Classify_ServiceErrors_ByStatusAndCode(HttpStatusCode status, string code, bool transient)
    {
        Assert.Equal(transient ? FailureKind.Transient : FailureKind.Permanent, RetryPolicy.Classify(FakeS3.Error(status, code)));
    }

    [Fact]
    public void Classify_ConnectionFaultsAndTimeouts_AreTransient()
    {
        Assert.Equal(FailureKind.Transient, RetryPolicy.Classify(new IOException("The response ended prematurely")));
        Assert.Equal(FailureKind.Transient, RetryPolicy.Classify(new HttpRequestException("reset", new SocketException((int)SocketError.ConnectionReset))));
        Assert.Equal(FailureKind.Transient, RetryPolicy.Classify(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.Equal(FailureKind.Transient, RetryPolicy.Classify(new TaskCanceledException("HttpClient.Timeout", new TimeoutException())));
        Assert.Equal(FailureKind.Transient, RetryPolicy.Classify(new InvalidOperationException("wrapped", new IOException("broken pipe"))));
    }

    [Fact]
    public void Classify_StoreErrorsAndBugs_ArePermanent()
    {
        Assert.Equal(FailureKind.Permanent, RetryPolicy.Classify(new ObjectNotFoundException("b", "k")));
        Assert.Equal(FailureKind.Permanent, RetryPolicy.Classify(new PreconditionFailedException("b", "k", "\"e\"")));
        Assert.Equal(FailureKind.Permanent, RetryPolicy.Classify(new CredentialsException("no credentials")));
        Assert.Equal(FailureKind.Permanent, RetryPolicy.Classify(new ArgumentOutOfRangeException("offset")));
        Assert.Equal(FailureKind.Protocol, RetryPolicy.Classify(new OriginProtocolException("bad Content-Range")));
    }

    [Fact]
    public void GetDelay_FullJitter_StaysBelowExponentialCapLimitedByMaxDelay()
    {
        double next = 0.999999;
        var policy = new RetryPolicy(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), random: () => next);

        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.GetDelayCap(1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.GetDelayCap(2));
        Assert.Equal(TimeSpan.FromMilliseconds(800), policy.GetDelayCap(4));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.GetDelayCap(6));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.GetDelayCap(60));
        for (int attempt = 1; attempt <= 12; attempt++)
        {
            next = 0.999999;
            Assert.InRange(policy.GetDelay(attempt), TimeSpan.Zero, policy.GetDelayCap(attempt));
            next = 0;
            Assert.Equal(TimeSpan.Zero, policy.GetDelay(attempt));
        }
    }

    [Fact]
    public void GetDelay_DefaultRandom_WithinBounds()
    {
        var policy = new RetryPolicy(4, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        for (int i = 0; i < 1000; i++)
        {
            Assert.InRange(policy.GetDelay(3), TimeSpan.Zero, TimeSpan.FromMilliseconds(400));
        }
    }

    [Fact]
    public async Task ExecuteAsync_Backoff_WaitsOnTheTimeProvider()
    {
        var time = new FakeTimeProvider();
        var policy = new RetryPolicy(2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), time, random: () => 0.5);
        int calls = 0;

        Task<int> run = policy.ExecuteAsync((attempt, _) =>
        {
            calls++;
            return attempt == 1 ? throw new IOException("reset") : Task.FromResult(1);
        }, "test", null, CancellationToken.None);

        Assert.False(run.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(run.IsCompleted);
        Assert.Equal(1, calls);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await run);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task ExecuteAsync_CancelledDuringBackoff_ThrowsOperationCanceledWithoutMoreAttempts()
    {
        var time = new FakeTimeProvider();
        var policy = new RetryPolicy(4, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), time, random: () => 0.5);
        using var cts = new CancellationTokenSource();
        int calls = 0;

        Task<int> run = policy.ExecuteAsync<int>((_, _) =>
        {
            calls++;
            throw new IOException("reset");
        }, "test", null, cts.Token);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ExecuteAsync_CancelledCaller_NotRetriedEvenIfTransportThrowsIOException()
    {
        using var cts = new CancellationTokenSource();
        int calls = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NoWait().ExecuteAsync<int>((_, _) =>
        {
            calls++;
            cts.Cancel();
            throw new IOException("aborted");
        }, "test", null, cts.Token));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ExecuteAsync_AttemptTimeout_RetriedThenOriginUnavailableWithTimeout()
    {
        var time = new FakeTimeProvider();
        var policy = new RetryPolicy(2, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromSeconds(30), time);
        int calls = 0;

        Task<int> run = policy.ExecuteAsync(async (_, token) =>
        {
            calls++;
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return 0;
        }, "test GET b/k", null, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(30));
        await WaitUntil(() => calls == 2, "second attempt to start");
        time.Advance(TimeSpan.FromSeconds(30));

        var ex = await Assert.ThrowsAsync<OriginUnavailableException>(() => run);
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Contains("timed out", ex.Message);
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition(), $"timed out waiting for {what}");
    }
}
