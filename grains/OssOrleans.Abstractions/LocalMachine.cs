namespace OssOrleans;

/// <summary>This machine's identity as <see cref="LocalEndpoint"/> uses it: the boot id (Linux), which differs between machines and boots; empty elsewhere.</summary>
internal static class LocalMachine
{
    public static string BootId { get; } = Read();

    private static string Read()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
