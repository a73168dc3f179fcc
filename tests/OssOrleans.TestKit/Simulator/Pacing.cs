using System.Diagnostics;

namespace OssOrleans.TestKit;

/// <summary>
/// A bandwidth cap shared by many streams: a virtual link that is busy until <c>_busyUntil</c>
/// (Stopwatch ticks). Each chunk reserves its transfer time on the link and waits until its slot
/// starts. An idle link gives a burst allowance of 20 ms so that one stream can use the whole cap.
/// </summary>
internal sealed class SharedRateLimiter
{
    private static readonly long s_burstTicks = Stopwatch.Frequency / 50;
    private long _busyUntil;

    /// <summary>Reserves <paramref name="bytes"/> at <paramref name="bytesPerSecond"/>; returns how long to wait first.</summary>
    public TimeSpan Reserve(long bytes, long bytesPerSecond)
    {
        long now = Stopwatch.GetTimestamp();
        long cost = (long)(bytes * (double)Stopwatch.Frequency / bytesPerSecond);
        while (true)
        {
            long busy = Volatile.Read(ref _busyUntil);
            long start = Math.Max(busy, now - s_burstTicks);
            if (Interlocked.CompareExchange(ref _busyUntil, start + cost, busy) == busy)
            {
                return start > now ? Stopwatch.GetElapsedTime(now, start) : TimeSpan.Zero;
            }
        }
    }
}

/// <summary>
/// Paces one stream: before each chunk, sleeps only when the stream is ahead of the schedule
/// "bytes so far / rate" measured from its start, so that coarse timer resolution and oversleeping
/// are made up by later chunks instead of cutting throughput. Also applies a shared cap.
/// </summary>
internal sealed class StreamPacer(SharedRateLimiter shared)
{
    private static readonly TimeSpan s_minSleep = TimeSpan.FromMilliseconds(1);
    private long _start;
    private long _done;

    public async ValueTask BeforeChunkAsync(int chunkBytes, long perStreamRate, long sharedRate, CancellationToken ct)
    {
        if (_start == 0)
        {
            _start = Stopwatch.GetTimestamp();
        }
        if (perStreamRate > 0)
        {
            long target = _start + (long)(_done * (double)Stopwatch.Frequency / perStreamRate);
            long now = Stopwatch.GetTimestamp();
            if (target > now)
            {
                var ahead = Stopwatch.GetElapsedTime(now, target);
                if (ahead >= s_minSleep)
                {
                    await Task.Delay(ahead, ct).ConfigureAwait(false);
                }
            }
        }
        if (sharedRate > 0)
        {
            var wait = shared.Reserve(chunkBytes, sharedRate);
            if (wait >= s_minSleep)
            {
                await Task.Delay(wait, ct).ConfigureAwait(false);
            }
        }
        _done += chunkBytes;
    }
}
