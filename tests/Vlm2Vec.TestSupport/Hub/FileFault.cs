namespace Vlm2Vec.TestSupport.Hub;

/// <summary>Faults injected into the serving of one repo path.</summary>
public sealed class FileFault
{
    private int _interruptTimes;
    private int _stallTimes;
    private int _corruptTimes;

    /// <summary>Close the connection after this many body bytes, <see cref="InterruptTimes"/> times.</summary>
    public int InterruptAfterBytes { get; init; } = -1;

    public int InterruptTimes { get => _interruptTimes; init => _interruptTimes = value; }

    /// <summary>Stop sending (without closing) after this many body bytes, <see cref="StallTimes"/> times.</summary>
    public int StallAfterBytes { get; init; } = -1;

    public int StallTimes { get => _stallTimes; init => _stallTimes = value; }

    /// <summary>Serve content with one byte flipped this many times.</summary>
    public int CorruptTimes { get => _corruptTimes; init => _corruptTimes = value; }

    public bool TakeInterrupt() => Interlocked.Decrement(ref _interruptTimes) >= 0;

    public bool TakeStall() => Interlocked.Decrement(ref _stallTimes) >= 0;

    public bool TakeCorrupt() => Interlocked.Decrement(ref _corruptTimes) >= 0;
}
