using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace OssOrleans.Storage;

/// <summary>What a failed attempt means for the next one.</summary>
internal enum FailureKind
{
    /// <summary>Not retried: the answer will not change (4xx, not found, precondition failed, credentials, a bug).</summary>
    Permanent,

    /// <summary>Retried: throttling, 5xx, timeouts, connection faults. After the last attempt: <see cref="OriginUnavailableException"/>.</summary>
    Transient,

    /// <summary>Retried (a proxy glitch may pass): a wrong status, Content-Range or body length. After the last attempt: <see cref="OriginProtocolException"/>.</summary>
    Protocol,
}

/// <summary>One retry about to happen, for logging.</summary>
internal readonly record struct RetryEvent(int FailedAttempt, int MaxAttempts, Exception Error, FailureKind Kind, TimeSpan Delay);

/// <summary>
/// Bounded retries with full-jitter exponential backoff: before attempt n+1 it waits a uniformly random time in
/// [0, min(MaxDelay, BaseDelay * 2^(n-1))). Every attempt gets its own timeout. Honors cancellation: a cancelled
/// caller gets <see cref="OperationCanceledException"/> at once, never a retry.
/// </summary>
internal sealed class RetryPolicy
{
    private static readonly HashSet<string> TransientErrorCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
        "TooManyRequests", "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded", "ProvisionedThroughputExceededException",
        "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "PriorRequestNotComplete", "EC2ThrottledException",
    };

    private readonly TimeProvider _time;
    private readonly Func<double> _random;

    public RetryPolicy(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay, TimeSpan attemptTimeout, TimeProvider? time = null, Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        if (attemptTimeout <= TimeSpan.Zero && attemptTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(attemptTimeout), attemptTimeout, "must be positive or infinite");
        }
        MaxAttempts = maxAttempts;
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        AttemptTimeout = attemptTimeout;
        _time = time ?? TimeProvider.System;
        _random = random ?? Random.Shared.NextDouble;
    }

    public static RetryPolicy FromOptions(S3StoreOptions options, TimeProvider? time = null)
        => new(options.MaxAttempts, options.BaseDelay, options.MaxDelay, options.RequestTimeout, time);

    public int MaxAttempts { get; }
    public TimeSpan BaseDelay { get; }
    public TimeSpan MaxDelay { get; }
    public TimeSpan AttemptTimeout { get; }

    /// <summary>The upper bound of the wait after failed attempt <paramref name="failedAttempt"/> (1-based).</summary>
    public TimeSpan GetDelayCap(int failedAttempt)
    {
        int exponent = Math.Clamp(failedAttempt - 1, 0, 30);
        double ticks = Math.Min(MaxDelay.Ticks, BaseDelay.Ticks * Math.Pow(2, exponent));
        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>A full-jitter wait after failed attempt <paramref name="failedAttempt"/>: uniform in [0, cap).</summary>
    public TimeSpan GetDelay(int failedAttempt) => TimeSpan.FromTicks((long)(GetDelayCap(failedAttempt).Ticks * Math.Clamp(_random(), 0, 1)));

    /// <summary>Classifies a failure. <paramref name="attemptTimedOut"/> says that the attempt's own timeout fired.</summary>
    public static FailureKind Classify(Exception error, bool attemptTimedOut = false)
    {
        switch (error)
        {
            case OriginProtocolException:
                return FailureKind.Protocol;
            case ObjectStoreException:
                return FailureKind.Permanent;
            case OperationCanceledException:
                // The caller's own cancellation never reaches here; this is a timeout (ours or HttpClient's).
                return FailureKind.Transient;
            case AmazonServiceException service when service.StatusCode != 0:
                return IsTransientStatus(service.StatusCode) || (service.ErrorCode is { } code && TransientErrorCodes.Contains(code))
                    ? FailureKind.Transient
                    : FailureKind.Permanent;
        }
        if (attemptTimedOut)
        {
            return FailureKind.Transient;
        }
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is IOException or HttpRequestException or SocketException or TimeoutException)
            {
                return FailureKind.Transient;
            }
        }
        return FailureKind.Permanent;
    }

    /// <summary>Retried statuses: 408, 429, 500, 502, 503, 504. Every other 4xx is final.</summary>
    public static bool IsTransientStatus(HttpStatusCode status)
        => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// Runs <paramref name="attempt"/> up to <see cref="MaxAttempts"/> times. A permanent failure is rethrown as it is.
    /// After the last attempt a transient failure becomes <see cref="OriginUnavailableException"/> and a protocol failure
    /// <see cref="OriginProtocolException"/>, with <paramref name="describe"/> (store, operation, bucket/key) in the message
    /// and the last error as the inner exception.
    /// </summary>
    /// <param name="attempt">One attempt: the 1-based attempt number and a token that fires on cancellation or on the attempt's timeout.</param>
    /// <param name="describe">What is being done, for messages: never credentials.</param>
    /// <param name="onRetry">Called before each wait, for logging.</param>
    /// <param name="cancellationToken">Cancels the attempt in flight and the waits.</param>
    public async Task<T> ExecuteAsync<T>(Func<int, CancellationToken, Task<T>> attempt, string describe, Action<RetryEvent>? onRetry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        Exception? last = null;
        FailureKind lastKind = FailureKind.Transient;
        for (int n = 1; n <= MaxAttempts; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var timeout = AttemptTimeout == Timeout.InfiniteTimeSpan
                ? new CancellationTokenSource()
                : new CancellationTokenSource(AttemptTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                return await attempt(n, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
            {
                // The caller cancelled; whatever the transport made of it, report the cancellation.
                throw new OperationCanceledException("cancelled by the caller", ex, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                bool timedOut = timeout.IsCancellationRequested;
                FailureKind kind = Classify(ex, timedOut);
                if (kind == FailureKind.Permanent)
                {
                    throw;
                }
                last = timedOut && ex is OperationCanceledException
                    ? new TimeoutException($"attempt timed out after {AttemptTimeout.TotalSeconds:0.###} s", ex)
                    : ex;
                lastKind = kind;
            }
            if (n < MaxAttempts)
            {
                TimeSpan delay = GetDelay(n);
                onRetry?.Invoke(new RetryEvent(n, MaxAttempts, last, lastKind, delay));
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        string attempts = MaxAttempts == 1 ? "1 attempt" : $"{MaxAttempts} attempts";
        string lastError = Describe(last!);
        throw lastKind == FailureKind.Protocol
            ? new OriginProtocolException(
                (lastError.StartsWith(describe, StringComparison.Ordinal) ? lastError : $"{describe}: {lastError}") + $" (after {attempts})", last)
            : new OriginUnavailableException($"{describe}: failed after {attempts}; last error: {lastError}", last);
    }

    /// <summary>A one-line description of an error: status and error code for service errors, else the type and message.</summary>
    public static string Describe(Exception error) => error switch
    {
        AmazonServiceException { StatusCode: not 0 } service => $"HTTP {(int)service.StatusCode} {service.ErrorCode}: {service.Message}",
        OriginProtocolException protocol => protocol.Message,
        _ => $"{error.GetType().Name}: {error.Message}",
    };
}
