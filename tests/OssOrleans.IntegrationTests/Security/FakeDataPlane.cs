using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OssOrleans.IntegrationTests.Security;

/// <summary>
/// An attacker's web server posing as a silo's data plane: it answers every shard read with its own bytes (of whatever
/// length is asked for in the receipt it was named in) and every delete with 204, and counts the requests. A silo that
/// ever fetches from it believed a URL a client chose.
/// </summary>
public sealed class FakeDataPlane : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private FakeDataPlane(WebApplication app, byte[] bytes)
    {
        _app = app;
        Bytes = bytes;
    }

    /// <summary>What it serves for any shard.</summary>
    public byte[] Bytes { get; }

    public string Url { get; private set; } = "";

    /// <summary>Requests it received (any method, any path).</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<FakeDataPlane> StartAsync(byte[] bytes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeDataPlane(app, bytes);
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref fake._requests);
            await next(context);
        });
        app.MapGet("/s/{handle}", (HttpContext context) =>
        {
            context.Response.Headers["x-shard-crc64"] = "0";
            context.Response.Headers["x-crc64-before"] = "0";
            context.Response.Headers["x-crc64-after"] = "0";
            return Results.Bytes(fake.Bytes, "application/octet-stream");
        });
        app.MapDelete("/s/{handle}", () => Results.NoContent());
        await app.StartAsync();
        fake.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return fake;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
