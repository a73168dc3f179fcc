namespace OssOrleans;

/// <summary>
/// Reads files that hold secrets (tenant secrets, the cluster secret, private keys, a client's credentials), refusing any
/// that other users may read or write, or that a group may write: a secret in such a file is not a secret. Group read is
/// allowed, because that is how Kubernetes mounts secrets for a pod's user (mode 0440 with the pod's fsGroup). One check
/// for the silo and the client.
/// </summary>
internal static class SecretFile
{
    private const UnixFileMode Shared = UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The whole text of <paramref name="path"/>; throws <see cref="InvalidOperationException"/> naming <paramref name="setting"/> and the problem, never the content.</summary>
    public static string ReadAll(string path, string setting)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new InvalidOperationException($"{setting}: file '{path}' does not exist");
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & Shared) != 0)
                throw new InvalidOperationException(
                    $"{setting}: '{path}' holds a secret but other users may access it (mode {Convert.ToString((int)mode, 8)}); chmod 600 it");
        }
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{setting}: cannot read '{path}': {ex.GetType().Name}", ex);
        }
    }

    /// <summary>The first line of <paramref name="path"/>, trimmed (a secret on its own line).</summary>
    public static string ReadFirstLine(string path, string setting)
    {
        string text = ReadAll(path, setting);
        int end = text.IndexOfAny(['\r', '\n']);
        string line = (end < 0 ? text : text[..end]).Trim();
        if (line.Length == 0)
            throw new InvalidOperationException($"{setting}: '{path}' is empty");
        return line;
    }
}
