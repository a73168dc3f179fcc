namespace OssOrleans.TestKit;

/// <summary>Which requests a fault applies to.</summary>
public enum FaultScope
{
    /// <summary>Any request: HEAD, GET, list, PUT, multipart, DELETE, bucket operations.</summary>
    AnyRequest,

    /// <summary>GET object requests, with or without a Range header (not HEAD, not list).</summary>
    AnyGet,

    /// <summary>GET object requests that carry a Range header.</summary>
    RangedGet,
}

/// <summary>
/// Faults of an <see cref="OriginSimulator"/>. Each method arms a counter: the next <c>count</c> requests
/// matching the scope get the fault (the counter is decremented atomically, so concurrent requests never
/// take more faults than armed). Arming again replaces the previous count and scope of that fault.
/// When several faults are armed, a request takes at most one, checked in this order: 503, reset,
/// truncation, 200-instead-of-206, wrong Content-Range, list without token, list token loop.
/// </summary>
public sealed class SimulatorFaults
{
    internal readonly FaultSlot Fail503Slot = new();
    internal readonly FaultSlot ResetSlot = new();
    internal readonly FaultSlot TruncateSlot = new();
    internal readonly FaultSlot Full200Slot = new();
    internal readonly FaultSlot WrongRangeSlot = new();
    internal readonly FaultSlot ListNoTokenSlot = new();
    internal readonly FaultSlot ListTokenLoopSlot = new();
    internal readonly FaultSlot CorruptPartSlot = new();

    /// <summary>The next <paramref name="count"/> matching requests get 503 with the S3 error code SlowDown.</summary>
    public void Fail503(int count, FaultScope scope = FaultScope.AnyRequest) => Fail503Slot.Arm(count, scope, 0);

    /// <summary>
    /// The next <paramref name="count"/> matching requests have their connection aborted
    /// (<c>HttpContext.Abort()</c>). For a GET, after the headers and <paramref name="afterBodyBytes"/> body
    /// bytes (at most the body length minus one); a negative <paramref name="afterBodyBytes"/>, or any
    /// request that is not a GET with a body, is aborted before the response headers.
    /// </summary>
    public void ResetConnection(int count, FaultScope scope = FaultScope.AnyGet, long afterBodyBytes = 64 * 1024) =>
        ResetSlot.Arm(count, scope, afterBodyBytes);

    /// <summary>
    /// The next <paramref name="count"/> matching GETs send their headers with the full Content-Length, then only
    /// <paramref name="sendBytes"/> body bytes (default: half the body), then abort the connection.
    /// </summary>
    public void TruncateBody(int count, FaultScope scope = FaultScope.AnyGet, long? sendBytes = null) =>
        TruncateSlot.Arm(count, scope, sendBytes ?? -1);

    /// <summary>The next <paramref name="count"/> GETs with a valid Range ignore it and return 200 with the whole object.</summary>
    public void Return200InsteadOf206(int count) => Full200Slot.Arm(count, FaultScope.RangedGet, 0);

    /// <summary>
    /// The next <paramref name="count"/> GETs with a valid Range return 206 for a range shifted by
    /// <paramref name="shiftBytes"/> (the Content-Range says so, and the body holds the shifted bytes). When the
    /// shift would leave the object, the range is shifted the other way instead.
    /// </summary>
    public void WrongContentRange(int count, long shiftBytes = 1) =>
        WrongRangeSlot.Arm(count, FaultScope.RangedGet, shiftBytes == 0 ? 1 : shiftBytes);

    /// <summary>
    /// The next <paramref name="count"/> truncated ListObjectsV2 responses leave out NextContinuationToken
    /// (IsTruncated stays true): a client that trusts IsTruncated has nothing to continue with.
    /// </summary>
    public void ListTruncatedWithoutToken(int count) => ListNoTokenSlot.Arm(count, FaultScope.AnyRequest, 0);

    /// <summary>
    /// The next <paramref name="count"/> truncated ListObjectsV2 responses to a request that carries a continuation token
    /// send, as NextContinuationToken, the token that resumes after the listing's first key (except to a request asked
    /// with that very token, which is answered normally). Tokens never repeat back to back, but a client that follows
    /// them visits the same pages again and again.
    /// </summary>
    public void ListTokenLoop(int count) => ListTokenLoopSlot.Arm(count, FaultScope.AnyRequest, 0);

    /// <summary>
    /// The next <paramref name="count"/> UploadPart requests store their part with its first byte changed, as if the body
    /// had been damaged on the way (the ETag and the CRC-64 reported are those of the damaged bytes, as a server would give).
    /// </summary>
    public void CorruptUploadedPart(int count) => CorruptPartSlot.Arm(count, FaultScope.AnyRequest, 0);

    /// <summary>Disarms every fault.</summary>
    public void Clear()
    {
        Fail503Slot.Arm(0, FaultScope.AnyRequest, 0);
        ResetSlot.Arm(0, FaultScope.AnyRequest, 0);
        TruncateSlot.Arm(0, FaultScope.AnyRequest, 0);
        Full200Slot.Arm(0, FaultScope.AnyRequest, 0);
        WrongRangeSlot.Arm(0, FaultScope.AnyRequest, 0);
        ListNoTokenSlot.Arm(0, FaultScope.AnyRequest, 0);
        ListTokenLoopSlot.Arm(0, FaultScope.AnyRequest, 0);
        CorruptPartSlot.Arm(0, FaultScope.AnyRequest, 0);
    }

    /// <summary>Faults still armed: the sum of every remaining count.</summary>
    public int Pending =>
        Fail503Slot.Remaining + ResetSlot.Remaining + TruncateSlot.Remaining + Full200Slot.Remaining + WrongRangeSlot.Remaining
        + ListNoTokenSlot.Remaining + ListTokenLoopSlot.Remaining + CorruptPartSlot.Remaining;
}

internal sealed class FaultSlot
{
    private int _count;
    private int _scope;
    private long _parameter;

    public int Remaining => Math.Max(0, Volatile.Read(ref _count));

    public void Arm(int count, FaultScope scope, long parameter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Volatile.Write(ref _count, 0);
        Volatile.Write(ref _scope, (int)scope);
        Volatile.Write(ref _parameter, parameter);
        Volatile.Write(ref _count, count);
    }

    /// <summary>Takes one armed fault if the request matches; returns its parameter.</summary>
    public bool TryTake(bool isGet, bool isRanged, out long parameter)
    {
        parameter = 0;
        if (Volatile.Read(ref _count) <= 0)
        {
            return false;
        }
        var scope = (FaultScope)Volatile.Read(ref _scope);
        bool matches = scope switch
        {
            FaultScope.AnyRequest => true,
            FaultScope.AnyGet => isGet,
            FaultScope.RangedGet => isGet && isRanged,
            _ => false,
        };
        if (!matches)
        {
            return false;
        }
        parameter = Volatile.Read(ref _parameter);
        while (true)
        {
            int current = Volatile.Read(ref _count);
            if (current <= 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _count, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}
