using System.Net;
using System.Reflection;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace OssOrleans.UnitTests.Storage;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Join(System.IO.Path.GetTempPath(), "ossorleans-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Join([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// An <see cref="IAmazonS3"/> whose every async call goes to <see cref="Handler"/> with the request object.
/// The handler returns the response or throws; calls are recorded.
/// </summary>
public class FakeS3 : DispatchProxy
{
    private static readonly MethodInfo WrapMethod = typeof(FakeS3).GetMethod(nameof(Wrap), BindingFlags.NonPublic | BindingFlags.Static)!;

    public Func<AmazonWebServiceRequest, object> Handler { get; set; } = _ => throw new NotSupportedException();

    public List<AmazonWebServiceRequest> Requests { get; } = [];

    public static (IAmazonS3 Client, FakeS3 Fake) Create(Func<AmazonWebServiceRequest, object> handler)
    {
        IAmazonS3 client = Create<IAmazonS3, FakeS3>();
        var fake = (FakeS3)(object)client;
        fake.Handler = handler;
        return (client, fake);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IDisposable.Dispose))
        {
            return null;
        }
        Type returnType = targetMethod.ReturnType;
        if (!returnType.IsGenericType || returnType.GetGenericTypeDefinition() != typeof(Task<>)
            || args is not [AmazonWebServiceRequest request, ..])
        {
            throw new NotSupportedException($"FakeS3 does not implement {targetMethod.Name}");
        }
        lock (Requests)
        {
            Requests.Add(request);
        }
        return WrapMethod.MakeGenericMethod(returnType.GetGenericArguments()[0]).Invoke(null, [Handler, request]);
    }

    public int Count<T>()
    {
        lock (Requests)
        {
            return Requests.OfType<T>().Count();
        }
    }

    private static Task<T> Wrap<T>(Func<AmazonWebServiceRequest, object> handler, AmazonWebServiceRequest request)
    {
        try
        {
            return Task.FromResult((T)handler(request));
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    public static AmazonS3Exception Error(HttpStatusCode status, string code)
        => new($"fake {code}", ErrorType.Sender, code, "request-1", status);

    /// <summary>A correct answer for a range of <paramref name="content"/>.</summary>
    public static GetObjectResponse Range(byte[] content, GetObjectRequest request, string etag = "\"v1\"")
    {
        long first = request.ByteRange.Start;
        long last = request.ByteRange.End;
        byte[] body = content[(int)first..(int)(last + 1)];
        return new GetObjectResponse
        {
            HttpStatusCode = HttpStatusCode.PartialContent,
            ContentRange = $"bytes {first}-{last}/{content.Length}",
            ContentLength = body.Length,
            ETag = etag,
            ResponseStream = new MemoryStream(body),
        };
    }
}

/// <summary>Keeps every formatted log message.</summary>
internal sealed class CapturingLogger : ILogger
{
    public List<(LogLevel Level, EventId Id, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries)
        {
            Entries.Add((logLevel, eventId, formatter(state, exception) + (exception is null ? "" : " " + exception)));
        }
    }
}

internal sealed class CapturingLogger<T> : ILogger<T>
{
    public CapturingLogger Inner { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Inner.Log(logLevel, eventId, state, exception, formatter);
}
