using Microsoft.Extensions.Logging;

namespace OssOrleans.Storage;

// Storage EventIds: 1000-1099. Messages name the store, bucket and key; never credentials, signed URLs or headers.
public sealed partial class S3ObjectStore
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information,
        Message = "S3 object store {Store} ready: signing region {Region}, {Addressing} addressing, credentials {Credentials}, {MaxAttempts} attempts per request")]
    private static partial void LogCreated(ILogger logger, string store, string region, string addressing, string credentials, int maxAttempts);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "{Store} {Operation} {Bucket}/{Key}: attempt {Attempt} of {MaxAttempts} failed with {ErrorType} ({Error}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string store, string operation, string bucket, string key, int attempt, int maxAttempts, string errorType, string error, long delayMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning,
        Message = "{Store} {Operation} {Bucket}/{Key} gave up: {Error}")]
    private static partial void LogGaveUp(ILogger logger, string store, string operation, string bucket, string key, string error);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information,
        Message = "{Store} {Operation} {Bucket}/{Key}: the object already holds this write; an earlier attempt succeeded though its response was lost")]
    private static partial void LogOwnWrite(ILogger logger, string store, string operation, string bucket, string key);
}
