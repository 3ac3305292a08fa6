using System.Diagnostics;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>Time spent inside <c>InferenceSession.Run</c>, summed over every call and thread (benchmarks read it to
/// report the share of end-to-end time spent outside the session).</summary>
internal sealed class OnnxRunStatistics
{
    private long _visionTicks;
    private long _textTicks;
    private long _visionRuns;
    private long _textRuns;

    public TimeSpan VisionTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _visionTicks));

    public TimeSpan TextTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _textTicks));

    public TimeSpan SessionTime => VisionTime + TextTime;

    public long VisionRuns => Interlocked.Read(ref _visionRuns);

    public long TextRuns => Interlocked.Read(ref _textRuns);

    public void AddVision(long ticks)
    {
        Interlocked.Add(ref _visionTicks, ticks);
        Interlocked.Increment(ref _visionRuns);
    }

    public void AddText(long ticks)
    {
        Interlocked.Add(ref _textTicks, ticks);
        Interlocked.Increment(ref _textRuns);
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _visionTicks, 0);
        Interlocked.Exchange(ref _textTicks, 0);
        Interlocked.Exchange(ref _visionRuns, 0);
        Interlocked.Exchange(ref _textRuns, 0);
    }
}
