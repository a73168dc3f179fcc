using System.Buffers.Binary;

namespace OssOrleans;

/// <summary>
/// The frames of a silo's raw local read socket (its Unix socket path plus <see cref="PathSuffix"/>), shared by the
/// silo that answers and the client that asks, so the two cannot drift apart. Little-endian. A request is a count
/// (int32, 1 to <see cref="MaxItems"/>) and per item (<see cref="ItemBytes"/> bytes) a handle (int64), offset (int32),
/// length (int32) and the capability token of the handle (<see cref="CapabilityToken.Bytes"/> bytes, as the shard location
/// gave it). The answer (<see cref="AnswerBytes"/> bytes) is a status (<see cref="Ok"/>, <see cref="NotResident"/>: an item
/// is gone or failed its CRC check, ask the grains again, <see cref="BadRequest"/>, <see cref="Forbidden"/>: a token is
/// wrong or expired, ask the grains again) and the total length (int64); on <see cref="Ok"/> it goes on with
/// <see cref="ItemCrcBytes"/> per item, the CRC-64 of the shard's bytes before and after the item's range (so the client can
/// check the range against the shard's CRC), then the items' bytes in the order asked.
/// </summary>
internal static class LocalReadFrames
{
    public const string PathSuffix = "r";

    public const int MaxItems = 256;

    public const int HeaderBytes = 4, ItemBytes = 16 + CapabilityToken.Bytes, AnswerBytes = 9, ItemCrcBytes = 16;

    public const byte Ok = 0, NotResident = 1, BadRequest = 2, Forbidden = 3;

    /// <summary>The raw read socket beside a silo's HTTP Unix socket.</summary>
    public static string PathFor(string httpSocket) => httpSocket + PathSuffix;

    public static void WriteCount(Span<byte> header, int count) => BinaryPrimitives.WriteInt32LittleEndian(header, count);

    public static int ReadCount(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt32LittleEndian(header);

    public static void WriteItem(Span<byte> item, long handle, int offset, int length, ReadOnlySpan<byte> token)
    {
        BinaryPrimitives.WriteInt64LittleEndian(item, handle);
        BinaryPrimitives.WriteInt32LittleEndian(item[8..], offset);
        BinaryPrimitives.WriteInt32LittleEndian(item[12..], length);
        token.CopyTo(item.Slice(16, CapabilityToken.Bytes));
    }

    public static (long Handle, int Offset, int Length, ReadOnlyMemory<byte> Token) ReadItem(ReadOnlyMemory<byte> item) =>
        (BinaryPrimitives.ReadInt64LittleEndian(item.Span), BinaryPrimitives.ReadInt32LittleEndian(item.Span[8..]),
         BinaryPrimitives.ReadInt32LittleEndian(item.Span[12..]), item.Slice(16, CapabilityToken.Bytes));

    public static void WriteAnswer(Span<byte> answer, byte status, long total)
    {
        answer[0] = status;
        BinaryPrimitives.WriteInt64LittleEndian(answer[1..], total);
    }

    public static (byte Status, long Total) ReadAnswer(ReadOnlySpan<byte> answer) => (answer[0], BinaryPrimitives.ReadInt64LittleEndian(answer[1..]));

    public static void WriteItemCrcs(Span<byte> target, ulong before, ulong after)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(target, before);
        BinaryPrimitives.WriteUInt64LittleEndian(target[8..], after);
    }

    public static (ulong Before, ulong After) ReadItemCrcs(ReadOnlySpan<byte> source) =>
        (BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
}

/// <summary>
/// The size of a data-plane capability token, and its text form in shard locations and URLs (base64url): what both sides
/// need; what it contains and how it is checked belongs to the silo that issues it.
/// </summary>
internal static class CapabilityToken
{
    public const int Bytes = 32;

    /// <summary>Decodes a token's text form into <paramref name="destination"/> (32 bytes); false when it is not one.</summary>
    public static bool TryDecode(string? text, Span<byte> destination) =>
        text is { Length: 43 } && System.Buffers.Text.Base64Url.TryDecodeFromChars(text, destination, out int written) && written == Bytes;

    public static string Encode(ReadOnlySpan<byte> token) => System.Buffers.Text.Base64Url.EncodeToString(token);
}
