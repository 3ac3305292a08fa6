namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// Straightforward double-precision reference computations of the Qwen2-VL building blocks, written from the
/// definitions in vlm2vec-spec.md §3.5–3.8 and §1.4 (row-major arrays, no cleverness). Where the reference
/// implementation computes something in float32 on purpose (rotary angles <c>position · inv_freq</c>), the
/// reference rounds to float32 at the same point, since that rounding is part of the model's definition.
/// </summary>
internal static class Reference
{
    /// <summary>RMSNorm over rows of <paramref name="hidden"/> values: <c>w · x / √(mean(x²) + ε)</c>.</summary>
    public static double[] RmsNorm(IReadOnlyList<float> x, IReadOnlyList<float> weight, int hidden, double epsilon)
    {
        var rows = x.Count / hidden;
        var y = new double[x.Count];
        for (var r = 0; r < rows; r++)
        {
            double sumSquares = 0;
            for (var j = 0; j < hidden; j++)
            {
                sumSquares += (double)x[(r * hidden) + j] * x[(r * hidden) + j];
            }

            var inverse = 1.0 / Math.Sqrt((sumSquares / hidden) + epsilon);
            for (var j = 0; j < hidden; j++)
            {
                y[(r * hidden) + j] = weight[j] * (x[(r * hidden) + j] * inverse);
            }
        }

        return y;
    }

    /// <summary>LayerNorm with weight and bias over rows.</summary>
    public static double[] LayerNorm(IReadOnlyList<float> x, IReadOnlyList<float> weight, IReadOnlyList<float> bias, int hidden, double epsilon)
    {
        var rows = x.Count / hidden;
        var y = new double[x.Count];
        for (var r = 0; r < rows; r++)
        {
            double mean = 0;
            for (var j = 0; j < hidden; j++)
            {
                mean += x[(r * hidden) + j];
            }

            mean /= hidden;
            double variance = 0;
            for (var j = 0; j < hidden; j++)
            {
                var d = x[(r * hidden) + j] - mean;
                variance += d * d;
            }

            var inverse = 1.0 / Math.Sqrt((variance / hidden) + epsilon);
            for (var j = 0; j < hidden; j++)
            {
                y[(r * hidden) + j] = ((x[(r * hidden) + j] - mean) * inverse * weight[j]) + bias[j];
            }
        }

        return y;
    }

    /// <summary>Element-wise sum as floats (the residual stream stays float32 in the model).</summary>
    public static float[] AddFloat(IReadOnlyList<float> a, IReadOnlyList<float> b) => a.Select((v, i) => v + b[i]).ToArray();

    /// <summary>
    /// M-RoPE angles per token, (B, S, D/2): half-dim k takes its position from stream 0 (t), 1 (h) or 2 (w) by
    /// <paramref name="section"/>; the angle is the float32 product <c>position · inv_freq[k]</c> as in HF.
    /// <paramref name="positions"/> is (3, B, S).
    /// </summary>
    public static float[] MropeAngles(long[] positions, int batch, int sequence, float[] invFreq, int[] section)
    {
        var half = invFreq.Length;
        var angles = new float[batch * sequence * half];
        for (var b = 0; b < batch; b++)
        {
            for (var s = 0; s < sequence; s++)
            {
                for (var k = 0; k < half; k++)
                {
                    var stream = k < section[0] ? 0 : k < section[0] + section[1] ? 1 : 2;
                    var position = (float)positions[(((stream * batch) + b) * sequence) + s];
                    angles[(((b * sequence) + s) * half) + k] = position * invFreq[k];
                }
            }
        }

        return angles;
    }

    /// <summary>Vision 2-D rotary angles per patch, (P, D/2) = [row · inv_freq, col · inv_freq] in float32.
    /// <paramref name="rowColumn"/> is (P, 2).</summary>
    public static float[] VisionAngles(long[] rowColumn, float[] invFreq)
    {
        var patches = rowColumn.Length / 2;
        var quarter = invFreq.Length;
        var angles = new float[patches * quarter * 2];
        for (var p = 0; p < patches; p++)
        {
            for (var k = 0; k < quarter; k++)
            {
                angles[(p * 2 * quarter) + k] = rowColumn[2 * p] * invFreq[k];
                angles[(p * 2 * quarter) + quarter + k] = rowColumn[(2 * p) + 1] * invFreq[k];
            }
        }

        return angles;
    }

    /// <summary>
    /// Rotate-half RoPE on (tokens, heads, D) with per-token angles (tokens, D/2):
    /// <c>y[j] = x[j]cos a_j − x[j+D/2] sin a_j</c>, <c>y[j+D/2] = x[j+D/2] cos a_j + x[j] sin a_j</c>.
    /// </summary>
    public static double[] RotateHalf(IReadOnlyList<float> x, float[] angles, int heads, int headDim)
    {
        var half = headDim / 2;
        var tokens = x.Count / (heads * headDim);
        var y = new double[x.Count];
        for (var t = 0; t < tokens; t++)
        {
            for (var h = 0; h < heads; h++)
            {
                var baseIndex = ((t * heads) + h) * headDim;
                for (var j = 0; j < half; j++)
                {
                    var angle = (double)angles[(t * half) + j];
                    var c = Math.Cos(angle);
                    var s = Math.Sin(angle);
                    var x1 = (double)x[baseIndex + j];
                    var x2 = (double)x[baseIndex + half + j];
                    y[baseIndex + j] = (x1 * c) - (x2 * s);
                    y[baseIndex + half + j] = (x2 * c) + (x1 * s);
                }
            }
        }

        return y;
    }

    /// <summary>
    /// Scaled dot-product attention like HF eager: <c>softmax(q·kᵀ·scale + mask)·v</c> with an additive mask of 0 where
    /// <paramref name="allowed"/>(b, i, j) and float32's minimum elsewhere (so a fully masked row becomes uniform, as in
    /// HF). q is (B, S, N·D); k, v are (B, T, Nkv·D); query head h uses KV head h / (N / Nkv). Output (B, S, N·D).
    /// </summary>
    public static double[] Attention(
        IReadOnlyList<float> q,
        IReadOnlyList<float> k,
        IReadOnlyList<float> v,
        int batch,
        int sequence,
        int keys,
        int heads,
        int kvHeads,
        int headDim,
        Func<int, int, int, bool> allowed,
        double? scale = null)
    {
        var groups = heads / kvHeads;
        var factor = scale ?? (1.0 / Math.Sqrt(headDim));
        var output = new double[batch * sequence * heads * headDim];
        var scores = new double[keys];
        for (var b = 0; b < batch; b++)
        {
            for (var h = 0; h < heads; h++)
            {
                var kvHead = h / groups;
                for (var i = 0; i < sequence; i++)
                {
                    var qBase = (((b * sequence) + i) * heads * headDim) + (h * headDim);
                    var max = double.NegativeInfinity;
                    for (var j = 0; j < keys; j++)
                    {
                        var kBase = (((b * keys) + j) * kvHeads * headDim) + (kvHead * headDim);
                        double dot = 0;
                        for (var d = 0; d < headDim; d++)
                        {
                            dot += (double)q[qBase + d] * k[kBase + d];
                        }

                        scores[j] = (dot * factor) + (allowed(b, i, j) ? 0.0 : float.MinValue);
                        max = Math.Max(max, scores[j]);
                    }

                    double sum = 0;
                    for (var j = 0; j < keys; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }

                    for (var j = 0; j < keys; j++)
                    {
                        var vBase = (((b * keys) + j) * kvHeads * headDim) + (kvHead * headDim);
                        var p = scores[j] / sum;
                        for (var d = 0; d < headDim; d++)
                        {
                            output[qBase + d] += p * v[vBase + d];
                        }
                    }
                }
            }
        }

        return output;
    }

    /// <summary><c>x · W + bias</c> for (rows, in) · (in, out).</summary>
    public static float[] LinearAsFloat(IReadOnlyList<float> x, float[] weightInOut, float[]? bias, int inFeatures, int outFeatures)
    {
        var rows = x.Count / inFeatures;
        var y = new float[rows * outFeatures];
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < outFeatures; o++)
            {
                double sum = bias?[o] ?? 0;
                for (var i = 0; i < inFeatures; i++)
                {
                    sum += (double)x[(r * inFeatures) + i] * weightInOut[(i * outFeatures) + o];
                }

                y[(r * outFeatures) + o] = (float)sum;
            }
        }

        return y;
    }

    /// <summary>QuickGELU <c>x · σ(1.702 x)</c> (also SiLU with alpha 1).</summary>
    public static double QuickGelu(double x, double alpha = 1.702) => x / (1.0 + Math.Exp(-alpha * x));

    /// <summary>Exact GELU <c>x/2 · (1 + erf(x/√2))</c>.</summary>
    public static double Gelu(double x) => 0.5 * x * (1.0 + Erf(x / Math.Sqrt(2.0)));

    /// <summary>
    /// erf to ~1e-15 (.NET has no Math.Erf): Maclaurin series for |x| ≤ 2.5, Lentz continued fraction for erfc beyond.
    /// </summary>
    public static double Erf(double x)
    {
        var a = Math.Abs(x);
        double result;
        if (a <= 2.5)
        {
            double term = a, sum = a;
            for (var n = 1; n < 200; n++)
            {
                term *= -a * a / n;
                var contribution = term / ((2 * n) + 1);
                sum += contribution;
                if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            result = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))) evaluated with modified Lentz.
            const double tiny = 1e-300;
            var f = a;
            var c = a;
            double d = 0;
            for (var n = 1; n < 500; n++)
            {
                var an = n / 2.0;
                d = a + (an * d);
                d = Math.Abs(d) < tiny ? tiny : d;
                c = a + (an / c);
                c = Math.Abs(c) < tiny ? tiny : c;
                d = 1.0 / d;
                var delta = c * d;
                f *= delta;
                if (Math.Abs(delta - 1.0) < 1e-16)
                {
                    break;
                }
            }

            result = 1.0 - (Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f);
        }

        return x < 0 ? -result : result;
    }
}
