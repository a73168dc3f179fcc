using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace OssOrleans.Gateway.Listing;

/// <summary>
/// ListObjectsV2's continuation token: opaque to clients, it carries the id of the open cursor that continues the listing
/// and the last item returned, where a fresh stream starts when the cursor is gone (another silo, idle too long). The
/// position is the client's own page end, so a forged token can only start the listing somewhere the client could ask for
/// with start-after.
/// </summary>
internal static class ContinuationToken
{
    private const string Version = "1";

    public static string Encode(string cursorId, string position) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Version + "\n" + cursorId + "\n" + position));

    public static bool TryDecode(string token, [NotNullWhen(true)] out string? cursorId, [NotNullWhen(true)] out string? position)
    {
        cursorId = position = null;
        if (token.Length is 0 or > 4096)
            return false;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(token));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return false;
        }
        var parts = text.Split('\n', 3);
        if (parts.Length != 3 || parts[0] != Version || parts[1].Length == 0 || parts[2].Length == 0)
            return false;
        (cursorId, position) = (parts[1], parts[2]);
        return true;
    }
}
