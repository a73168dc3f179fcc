using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OssOrleans.Storage;

namespace OssOrleans.Grains.DataPlane;

/// <summary>Gives a Kestrel server <see cref="LargeBlockMemoryPool"/>s, so bulk request bodies arrive in 64 KiB receives.</summary>
internal sealed class LargeBlockPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();

    /// <summary>
    /// Large receive blocks, and no zero-byte "wait for data" receive before each one (it doubles the receive calls;
    /// it saves memory on many idle connections, which a data plane does not have).
    /// </summary>
    public static void Use(IWebHostBuilder webHost, IServiceCollection services)
    {
        services.RemoveAll<IMemoryPoolFactory<byte>>();
        services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockPoolFactory>();
        webHost.UseSockets(o => o.WaitForDataBeforeAllocatingBuffer = false);
    }
}
