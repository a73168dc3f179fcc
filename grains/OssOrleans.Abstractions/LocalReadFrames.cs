using System.Buffers.Binary;

namespace OssOrleans;

/// <summary>
/// The frames of a silo's raw local read socket (its Unix socket path plus <see cref="PathSuffix"/>), shared by the
/// silo that answers and the client that asks, so the two cannot drift apart. Little-endian. A request is a count
/// (int32, 1 to <see cref="MaxItems"/>) and per item (<see cref="ItemBytes"/> bytes) a handle (int64), offset (int32)
/// and length (int32). The answer (<see cref="AnswerBytes"/> bytes) is a status (<see cref="Ok"/>,
/// <see cref="NotResident"/>: an item is gone or failed its CRC check, ask the grains again, <see cref="BadRequest"/>)
/// and the total length (int64), followed on <see cref="Ok"/> by the items' bytes in the order asked.
/// </summary>
internal static class LocalReadFrames
{
    public const string PathSuffix = "r";

    public const int MaxItems = 256;

    public const int HeaderBytes = 4, ItemBytes = 16, AnswerBytes = 9;

    public const byte Ok = 0, NotResident = 1, BadRequest = 2;

    /// <summary>The raw read socket beside a silo's HTTP Unix socket.</summary>
    public static string PathFor(string httpSocket) => httpSocket + PathSuffix;

    public static void WriteCount(Span<byte> header, int count) => BinaryPrimitives.WriteInt32LittleEndian(header, count);

    public static int ReadCount(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt32LittleEndian(header);

    public static void WriteItem(Span<byte> item, long handle, int offset, int length)
    {
        BinaryPrimitives.WriteInt64LittleEndian(item, handle);
        BinaryPrimitives.WriteInt32LittleEndian(item[8..], offset);
        BinaryPrimitives.WriteInt32LittleEndian(item[12..], length);
    }

    public static (long Handle, int Offset, int Length) ReadItem(ReadOnlySpan<byte> item) =>
        (BinaryPrimitives.ReadInt64LittleEndian(item), BinaryPrimitives.ReadInt32LittleEndian(item[8..]), BinaryPrimitives.ReadInt32LittleEndian(item[12..]));

    public static void WriteAnswer(Span<byte> answer, byte status, long total)
    {
        answer[0] = status;
        BinaryPrimitives.WriteInt64LittleEndian(answer[1..], total);
    }

    public static (byte Status, long Total) ReadAnswer(ReadOnlySpan<byte> answer) => (answer[0], BinaryPrimitives.ReadInt64LittleEndian(answer[1..]));
}
