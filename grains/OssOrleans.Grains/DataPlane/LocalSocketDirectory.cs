using System.Globalization;
using System.Runtime.InteropServices;

namespace OssOrleans.Grains.DataPlane;

/// <summary>
/// Where a silo's Unix sockets live: a directory of their own in the temp folder, created owner-only (0700), or readable by
/// one group (0750) when <see cref="Hosting.CacheOptions.DataPlaneSocketGroup"/> names one; the sockets in it are 0600 or
/// 0660 to match. The directory is private before any socket exists in it, so there is no moment at which another user
/// could connect, whatever the process umask. Also what tells a client that a socket is really this silo's (see
/// <see cref="LocalEndpoint"/>).
/// </summary>
internal static partial class LocalSocketDirectory
{
    /// <summary>Creates the directory and returns the HTTP socket's path in it, or null when paths there would be too long for a socket address.</summary>
    public static string? Create(string? group)
    {
        if (OperatingSystem.IsWindows())
            return null;
        string dir = Path.Combine(Path.GetTempPath(), $"ossorleans-{Guid.NewGuid():N}");
        string http = Path.Combine(dir, "dp.sock");
        // 108 bytes is Linux's limit for a socket path; the raw socket's path is one byte longer.
        if (http.Length + 2 >= 100)
            return null;
        int? gid = group is null ? null : GroupId(group);
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (gid is not null)
            mode |= UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        Directory.CreateDirectory(dir, mode);
        if (gid is int g)
            ChangeGroup(dir, g);
        return http;
    }

    /// <summary>Gives a socket its mode (and group) once it exists.</summary>
    public static void Protect(string socket, string? group)
    {
        if (OperatingSystem.IsWindows())
            return;
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (group is not null)
        {
            mode |= UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
            ChangeGroup(socket, GroupId(group));
        }
        File.SetUnixFileMode(socket, mode);
    }

    /// <summary>Removes the directory and what is left in it.</summary>
    public static void Delete(string socket)
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(socket)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // A group name from /etc/group, or a number.
    private static int GroupId(string group)
    {
        if (int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out int gid))
            return gid;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var f = line.Split(':');
            if (f.Length >= 3 && f[0] == group && int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid))
                return gid;
        }
        throw new InvalidOperationException($"Cache:DataPlaneSocketGroup: no group '{group}' on this machine");
    }

    private static void ChangeGroup(string path, int gid)
    {
        if (Chown(path, -1, gid) != 0)
            throw new InvalidOperationException($"Cache:DataPlaneSocketGroup: cannot give '{path}' group {gid} (errno {Marshal.GetLastPInvokeError()}); the silo's user must be in that group");
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);
}
