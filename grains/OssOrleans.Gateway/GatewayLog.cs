using Microsoft.Extensions.Logging;

namespace OssOrleans.Gateway;

// Gateway EventIds: 4000-4099. Never a secret, signature, token or signed URL: tenants, operations, buckets and keys only.
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "S3 gateway listening on {Urls} ({Mode})")]
    public static partial void Listening(ILogger logger, string urls, string mode);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "S3 request refused: {Operation} {Resource} of {Tenant}: {Code} ({Reason})")]
    public static partial void Refused(ILogger logger, string operation, string resource, string tenant, string code, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "S3 {Operation} {Resource} failed: {ErrorType}: {Error}")]
    public static partial void Failed(ILogger logger, string operation, string resource, string errorType, string error);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "S3 {Operation} {Resource} failed unexpectedly")]
    public static partial void Unexpected(ILogger logger, Exception exception, string operation, string resource);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "S3 {Operation} {Resource}: the answer was cut after it started ({ErrorType}: {Error})")]
    public static partial void Cut(ILogger logger, string operation, string resource, string errorType, string error);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Shard {Shard} from {Silo} did not match its CRC-64 ({Attempt}. time); reading it again")]
    public static partial void ShardMismatch(ILogger logger, string shard, string silo, int attempt);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "Write of {Uri} not aborted at the origin: {Error}")]
    public static partial void AbortFailed(ILogger logger, string uri, string error);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Debug, Message = "Write of {Uri}: not kept in the cache ({Reason})")]
    public static partial void NotSeeded(ILogger logger, string uri, string reason);
}
