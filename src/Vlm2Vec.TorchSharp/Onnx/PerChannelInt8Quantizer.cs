using System.Numerics.Tensors;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// Symmetric int8 quantization of a Linear weight <c>W (N = out, K = in)</c>, one scale per output channel, in the layout
/// of ONNX Runtime's com.microsoft <c>DynamicQuantizeMatMul</c>: B (K, N) int8 (the transposed weight, as for
/// <c>MatMul</c>), b_scale (N) float32, no zero point (0). For each output channel n: <c>scale[n] = max_k |W[n, k]| / 127</c>
/// and <c>B[k, n] = round(W[n, k] / scale[n])</c> (ties to even) in −127…127, so <c>W[n, k] ≈ B[k, n] · scale[n]</c> within
/// <c>scale[n] / 2</c>; an all-zero channel gets scale 0 and codes 0. −128 is never used, which keeps the code range
/// symmetric. Written by hand: the arithmetic is a few lines and no .NET package writes this layout.
/// </summary>
internal static class PerChannelInt8Quantizer
{
    /// <summary>The largest code magnitude.</summary>
    public const int MaxCode = 127;

    /// <summary>Per output channel scales (N) of <paramref name="weights"/> (N · K, row-major).</summary>
    public static float[] Scales(ReadOnlySpan<float> weights, int n, int k)
    {
        CheckShape(weights.Length, n, k);
        var scales = new float[n];
        for (var row = 0; row < n; row++)
        {
            scales[row] = Math.Abs(TensorPrimitives.MaxMagnitude(weights.Slice(row * k, k))) / MaxCode;
        }

        return scales;
    }

    /// <summary>The codes of <paramref name="weights"/> (N · K, row-major) with <paramref name="scales"/>, transposed to
    /// (K, N) row-major.</summary>
    public static sbyte[] TransposedCodes(ReadOnlySpan<float> weights, ReadOnlySpan<float> scales, int n, int k)
    {
        CheckShape(weights.Length, n, k);
        if (scales.Length != n)
        {
            throw new ArgumentException($"{scales.Length} scales for {n} output channels.", nameof(scales));
        }

        var codes = new sbyte[weights.Length];
        for (var row = 0; row < n; row++)
        {
            var scale = scales[row];
            if (scale == 0)
            {
                continue;
            }

            var inverse = 1f / scale;
            var source = weights.Slice(row * k, k);
            for (var col = 0; col < k; col++)
            {
                // |w / scale| ≤ 127 up to the last ulp of the reciprocal; the clamp keeps it in range.
                var q = (int)MathF.Round(source[col] * inverse, MidpointRounding.ToEven);
                codes[(col * n) + row] = (sbyte)Math.Clamp(q, -MaxCode, MaxCode);
            }
        }

        return codes;
    }

    /// <summary>The op's dequantized weight <c>W[n, k] = B[k, n] · scale[n]</c> as (N · K) row-major (tests, diagnostics).</summary>
    public static float[] Dequantize(ReadOnlySpan<sbyte> transposedCodes, ReadOnlySpan<float> scales, int n, int k)
    {
        CheckShape(transposedCodes.Length, n, k);
        var weights = new float[n * k];
        for (var row = 0; row < n; row++)
        {
            for (var col = 0; col < k; col++)
            {
                weights[(row * k) + col] = transposedCodes[(col * n) + row] * scales[row];
            }
        }

        return weights;
    }

    private static void CheckShape(int length, int n, int k)
    {
        if (n <= 0 || k <= 0 || (long)n * k != length)
        {
            throw new ArgumentException($"{length} values do not form a {n} × {k} matrix.");
        }
    }
}
