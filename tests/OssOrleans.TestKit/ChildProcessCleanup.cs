using System.Diagnostics;

namespace OssOrleans.TestKit;

/// <summary>How the test kit ends a server it started: the whole process tree, then its scratch folder.</summary>
internal static class ChildProcessCleanup
{
    public static async Task KillAndDeleteAsync(Process process, string scratchDirectory)
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started, or already reaped.
        }
        process.Dispose();
        try
        {
            Directory.Delete(scratchDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is not worth failing a test over.
        }
    }
}
