using System.Diagnostics;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Wraps the encoder under test for <c>vlm2vec bench</c> and adds up the wall time spent inside
/// <see cref="IVlm2VecEncoder.EncodeAsync"/>, so that the bench can report the share of end-to-end time spent outside
/// it (decode, preprocess, tokenise, collate, pool). Does not own the inner encoder's lifetime beyond
/// <see cref="Dispose"/>, which disposes it.
/// </summary>
internal sealed class TimedEncoder : IVlm2VecEncoder
{
    private readonly IVlm2VecEncoder _inner;
    private long _encodeTicks;
    private int _calls;

    public TimedEncoder(IVlm2VecEncoder inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    public Vlm2VecModelInfo Info => _inner.Info;

    public Vlm2VecPreprocessor Preprocessor => _inner.Preprocessor;

    /// <summary>Wall time inside <see cref="EncodeAsync"/> since the last <see cref="Reset"/>.</summary>
    public TimeSpan EncodeTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _encodeTicks));

    /// <summary>Calls of <see cref="EncodeAsync"/> since the last <see cref="Reset"/>.</summary>
    public int EncodeCalls => Volatile.Read(ref _calls);

    public void Reset()
    {
        Interlocked.Exchange(ref _encodeTicks, 0);
        Interlocked.Exchange(ref _calls, 0);
    }

    public async Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await _inner.EncodeAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Add(ref _encodeTicks, Stopwatch.GetTimestamp() - start);
            Interlocked.Increment(ref _calls);
        }
    }

    public void Dispose() => _inner.Dispose();
}
