namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// SplitMix64: a tiny, fully specified generator for the data order and the hard-negative choice, so a run's data
/// order depends on nothing but the seed (not on a runtime's <see cref="Random"/> implementation). Streams are keyed by
/// (seed, purpose, epoch, item) so that any epoch's order can be rebuilt on resume without replaying earlier ones.
/// </summary>
internal struct SeededRandom
{
    private ulong _state;

    public SeededRandom(long seed, params long[] stream)
    {
        var state = Mix((ulong)seed);
        foreach (var key in stream)
        {
            state = Mix(state ^ Mix((ulong)key + 0x9E3779B97F4A7C15UL));
        }

        _state = state;
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>) (rejection sampling, no modulo bias).</summary>
    public int NextInt(int bound)
    {
        if (bound <= 1)
        {
            return 0;
        }

        var limit = ulong.MaxValue - (ulong.MaxValue % (ulong)bound);
        ulong value;
        do
        {
            value = NextUInt64();
        }
        while (value >= limit);
        return (int)(value % (ulong)bound);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
