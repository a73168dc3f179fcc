namespace OssOrleans.TestKit;

/// <summary>A snapshot of an <see cref="OriginSimulator"/>'s request counters.</summary>
/// <param name="Requests">Every request received, whatever its outcome.</param>
/// <param name="Heads">HEAD object.</param>
/// <param name="Gets">GET object (ranged or not).</param>
/// <param name="Lists">ListObjectsV2 / ListObjects / ListBuckets.</param>
/// <param name="Puts">PUT object (not parts).</param>
/// <param name="Initiates">CreateMultipartUpload.</param>
/// <param name="UploadParts">UploadPart.</param>
/// <param name="Completes">CompleteMultipartUpload.</param>
/// <param name="Aborts">AbortMultipartUpload.</param>
/// <param name="Deletes">DELETE object.</param>
/// <param name="Other">Bucket operations and anything else.</param>
/// <param name="GetBodyBytes">Body bytes written in GET responses (including partial bodies of faulted responses).</param>
/// <param name="PutBodyBytes">Body bytes received by PUT object and UploadPart.</param>
/// <param name="FaultsInjected">Requests that took an armed fault.</param>
/// <param name="UnsignedPayloads">PUT object and UploadPart requests whose body was not signed (<c>x-amz-content-sha256: UNSIGNED-PAYLOAD</c>).</param>
public sealed record SimulatorCounters(
    long Requests,
    long Heads,
    long Gets,
    long Lists,
    long Puts,
    long Initiates,
    long UploadParts,
    long Completes,
    long Aborts,
    long Deletes,
    long Other,
    long GetBodyBytes,
    long PutBodyBytes,
    long FaultsInjected,
    long UnsignedPayloads);

internal enum RequestKind
{
    Head,
    Get,
    List,
    Put,
    Initiate,
    UploadPart,
    Complete,
    Abort,
    Delete,
    Other,
}

internal sealed class CounterSet
{
    private readonly long[] _byKind = new long[(int)RequestKind.Other + 1];
    private long _requests;
    private long _getBodyBytes;
    private long _putBodyBytes;
    private long _faults;
    private long _unsigned;

    public void Request() => Interlocked.Increment(ref _requests);

    public void Kind(RequestKind kind) => Interlocked.Increment(ref _byKind[(int)kind]);

    public void GetBytes(long n) => Interlocked.Add(ref _getBodyBytes, n);

    public void PutBytes(long n) => Interlocked.Add(ref _putBodyBytes, n);

    public void Fault() => Interlocked.Increment(ref _faults);

    public void Unsigned() => Interlocked.Increment(ref _unsigned);

    public SimulatorCounters Snapshot() => new(
        Interlocked.Read(ref _requests),
        Read(RequestKind.Head),
        Read(RequestKind.Get),
        Read(RequestKind.List),
        Read(RequestKind.Put),
        Read(RequestKind.Initiate),
        Read(RequestKind.UploadPart),
        Read(RequestKind.Complete),
        Read(RequestKind.Abort),
        Read(RequestKind.Delete),
        Read(RequestKind.Other),
        Interlocked.Read(ref _getBodyBytes),
        Interlocked.Read(ref _putBodyBytes),
        Interlocked.Read(ref _faults),
        Interlocked.Read(ref _unsigned));

    public void Reset()
    {
        Interlocked.Exchange(ref _requests, 0);
        for (int i = 0; i < _byKind.Length; i++)
        {
            Interlocked.Exchange(ref _byKind[i], 0);
        }
        Interlocked.Exchange(ref _getBodyBytes, 0);
        Interlocked.Exchange(ref _putBodyBytes, 0);
        Interlocked.Exchange(ref _faults, 0);
        Interlocked.Exchange(ref _unsigned, 0);
    }

    private long Read(RequestKind kind) => Interlocked.Read(ref _byKind[(int)kind]);
}
