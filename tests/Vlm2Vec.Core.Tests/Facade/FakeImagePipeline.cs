using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Facade;

/// <summary>
/// An image stage for facade tests that do not exercise decoding: an image named <c>grid-T-H-W</c> becomes a processed
/// image of that grid (patch values = the grid's H), <c>broken</c> fails like a corrupt file. It records concurrency.
/// </summary>
internal sealed class FakeImagePipeline : IImagePipeline
{
    private int _active;
    private int _maxActive;
    private int _calls;

    private int _missedRendezvous;

    public int DelayMilliseconds { get; init; }

    /// <summary>When set, each call waits (up to 10 s) until this many calls are active at once.</summary>
    public int Rendezvous { get; init; }

    public int MissedRendezvous => Volatile.Read(ref _missedRendezvous);

    public int MaxConcurrent => Volatile.Read(ref _maxActive);

    public int Calls => Volatile.Read(ref _calls);

    public static ImageInput Image(int t, int h, int w) => ImageInput.FromBytes(new byte[] { 1 }, $"grid-{t}-{h}-{w}");

    public static ImageInput Broken => ImageInput.FromBytes(new byte[] { 1 }, "broken");

    public ProcessedImage Process(ImageInput image)
    {
        var active = Interlocked.Increment(ref _active);
        Interlocked.Increment(ref _calls);
        int seen;
        while (active > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, active, seen) != seen)
        {
        }

        try
        {
            if (Rendezvous > 0)
            {
                var deadline = Environment.TickCount64 + 10_000;
                while (Volatile.Read(ref _maxActive) < Rendezvous)
                {
                    if (Environment.TickCount64 > deadline)
                    {
                        Interlocked.Increment(ref _missedRendezvous);
                        break;
                    }

                    Thread.Sleep(1);
                }
            }

            if (DelayMilliseconds > 0)
            {
                Thread.Sleep(DelayMilliseconds);
            }

            if (image.Name == "broken")
            {
                throw new ImageDecodeException(ImageErrorKind.Corrupt, image.Name, "Image 'broken' is damaged (test).");
            }

            var parts = image.Name!.Split('-');
            var (t, h, w) = (int.Parse(parts[1]), int.Parse(parts[2]), int.Parse(parts[3]));
            var pixels = new float[t * h * w * 1176];
            Array.Fill(pixels, h);
            return new ProcessedImage(pixels, t, h, w, 1176);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }
}
