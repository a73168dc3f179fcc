namespace OssOrleans.Storage;

/// <summary>The multipart upload does not exist: completed, aborted, never started, or another object's.</summary>
public sealed class UploadNotFoundException(string message, Exception? inner = null) : ObjectStoreException(message, inner);
