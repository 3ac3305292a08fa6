namespace Vlm2Vec.OnnxRuntime.Tests.Support;

/// <summary>Error measures for comparing embeddings.</summary>
internal static class Numerics
{
    /// <summary>Largest |expected − actual| over a flat reference and per-row results (NaN counts as infinite).</summary>
    public static double MaxAbs(float[] expected, float[][] rows)
    {
        var dimension = rows[0].Length;
        Assert.Equal(expected.Length, rows.Length * dimension);
        double worst = 0;
        for (var r = 0; r < rows.Length; r++)
        {
            for (var i = 0; i < dimension; i++)
            {
                var d = Math.Abs((double)expected[(r * dimension) + i] - rows[r][i]);
                worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
            }
        }

        return worst;
    }

    /// <summary>Largest |a − b| between two flat arrays.</summary>
    public static double MaxAbs(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double worst = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = Math.Abs((double)a[i] - b[i]);
            worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
        }

        return worst;
    }

    /// <summary>The smallest cosine between corresponding rows.</summary>
    public static double MinCosine(float[] expected, float[][] rows)
    {
        var dimension = rows[0].Length;
        var min = 1.0;
        for (var r = 0; r < rows.Length; r++)
        {
            double dot = 0, ea = 0, aa = 0;
            for (var i = 0; i < dimension; i++)
            {
                double e = expected[(r * dimension) + i], a = rows[r][i];
                dot += e * a;
                ea += e * e;
                aa += a * a;
            }

            min = Math.Min(min, dot / Math.Sqrt(ea * aa));
        }

        return min;
    }
}
