namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>Seeded random data and comparison helpers for the exactness experiments.</summary>
internal static class Numerics
{
    /// <summary>Normally distributed float32 values (Box–Muller on a seeded generator).</summary>
    public static float[] Normal(int seed, int count, double std = 1.0, double mean = 0.0)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = (float)(mean + (std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2)));
        }

        return values;
    }

    /// <summary>Rounds every value to float16 and back (the exact values an fp16 graph sees).</summary>
    public static float[] RoundToHalf(float[] values) => values.Select(v => (float)(Half)v).ToArray();

    /// <summary>float → Half.</summary>
    public static Half[] ToHalf(float[] values) => values.Select(v => (Half)v).ToArray();

    /// <summary>Largest |actual − expected| / max(1, |expected|).</summary>
    public static double MaxScaledError(IReadOnlyList<double> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = 0;
        for (var i = 0; i < expected.Count; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            if (double.IsNaN(error))
            {
                return double.PositiveInfinity;
            }

            worst = Math.Max(worst, error);
        }

        return worst;
    }

    /// <summary>Cosine similarity of two vectors.</summary>
    public static double Cosine(IReadOnlyList<double> a, IReadOnlyList<float> b)
    {
        Assert.Equal(a.Count, b.Count);
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Count; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>Asserts fp32 exactness: every element within <paramref name="tolerance"/> (scaled by max(1, |expected|)).</summary>
    public static double AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double tolerance = 1e-5, string? what = null)
    {
        var error = MaxScaledError(expected, actual);
        Assert.True(error <= tolerance, $"{what ?? "output"}: max scaled error {error:E3} exceeds {tolerance:E1}");
        return error;
    }
}
