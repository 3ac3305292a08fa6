using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>
/// An independent, deliberately plain float64 implementation of the Qwen2-VL forward, written from the spec (§3.5–§3.8)
/// and the reference's eager semantics with loops over scalars, to check the TorchSharp modules position by position
/// (padded positions included). It shares nothing with the model code but the weights.
/// </summary>
internal sealed class NaiveQwen2VlReference
{
    private readonly Qwen2VlConfig _config;
    private readonly Dictionary<string, double[]> _w = new(StringComparer.Ordinal);

    public NaiveQwen2VlReference(Qwen2VlForConditionalGeneration model)
    {
        _config = model.Config;
        using var scope = NewDisposeScope();
        foreach (var (name, p) in model.named_parameters())
        {
            _w[name] = p.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        }
    }

    /// <summary>Vision tower output, flat <c>(tokens, hidden)</c>.</summary>
    public double[] Vision(float[] pixels, long[] grid)
    {
        var v = _config.Vision;
        int e = v.EmbedDim, heads = v.NumHeads, hd = e / heads, rowLength = v.PatchRowLength;
        var rows = pixels.Length / rowLength;
        var x = Linear(pixels.Select(p => (double)p).ToArray(), rows, rowLength, _w["visual.patch_embed.proj.weight"], null, e);

        // (row, column) of every patch row: inside each temporal slice, 2x2 merge blocks in raster order, patches in raster
        // order inside a block (spec §3.3 step 6 and §4.7).
        var rowIds = new int[rows];
        var colIds = new int[rows];
        var segments = new List<(int Start, int Length)>();
        var at = 0;
        for (var i = 0; i < grid.Length; i += 3)
        {
            int t = (int)grid[i], h = (int)grid[i + 1], w = (int)grid[i + 2];
            for (var ti = 0; ti < t; ti++)
            {
                segments.Add((at, h * w));
                for (var k = 0; k < h * w; k++)
                {
                    var block = k / 4;
                    var inner = k % 4;
                    rowIds[at] = ((block / (w / 2)) * 2) + (inner / 2);
                    colIds[at] = ((block % (w / 2)) * 2) + (inner % 2);
                    at++;
                }
            }
        }

        var quarter = hd / 4;
        for (var layer = 0; layer < v.Depth; layer++)
        {
            var p = $"visual.blocks.{layer}.";
            var normed = LayerNorm(x, rows, e, _w[p + "norm1.weight"], _w[p + "norm1.bias"]);
            var qkv = Linear(normed, rows, e, _w[p + "attn.qkv.weight"], _w[p + "attn.qkv.bias"], 3 * e);
            var q = new double[rows * e];
            var k = new double[rows * e];
            var val = new double[rows * e];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < e; c++)
                {
                    q[(r * e) + c] = qkv[(r * 3 * e) + c];
                    k[(r * e) + c] = qkv[(r * 3 * e) + e + c];
                    val[(r * e) + c] = qkv[(r * 3 * e) + (2 * e) + c];
                }
            }

            for (var r = 0; r < rows; r++)
            {
                var angles = new double[hd / 2];
                for (var j = 0; j < quarter; j++)
                {
                    var inv = 1.0 / Math.Pow(10000.0, 2.0 * j / (hd / 2));
                    angles[j] = rowIds[r] * inv;
                    angles[quarter + j] = colIds[r] * inv;
                }

                for (var h = 0; h < heads; h++)
                {
                    Rotate(q, (r * e) + (h * hd), hd, angles);
                    Rotate(k, (r * e) + (h * hd), hd, angles);
                }
            }

            var attended = new double[rows * e];
            foreach (var (start, length) in segments)
            {
                for (var h = 0; h < heads; h++)
                {
                    for (var i = start; i < start + length; i++)
                    {
                        var scores = new double[length];
                        for (var j = 0; j < length; j++)
                        {
                            scores[j] = Dot(q, (i * e) + (h * hd), k, ((start + j) * e) + (h * hd), hd) / Math.Sqrt(hd);
                        }

                        Softmax(scores);
                        for (var j = 0; j < length; j++)
                        {
                            for (var d = 0; d < hd; d++)
                            {
                                attended[(i * e) + (h * hd) + d] += scores[j] * val[((start + j) * e) + (h * hd) + d];
                            }
                        }
                    }
                }
            }

            var projected = Linear(attended, rows, e, _w[p + "attn.proj.weight"], _w[p + "attn.proj.bias"], e);
            Add(x, projected);
            normed = LayerNorm(x, rows, e, _w[p + "norm2.weight"], _w[p + "norm2.bias"]);
            var hidden = v.MlpHiddenDim;
            var mlp = Linear(normed, rows, e, _w[p + "mlp.fc1.weight"], _w[p + "mlp.fc1.bias"], hidden);
            for (var i = 0; i < mlp.Length; i++)
            {
                mlp[i] = mlp[i] / (1 + Math.Exp(-1.702 * mlp[i]));
            }

            Add(x, Linear(mlp, rows, hidden, _w[p + "mlp.fc2.weight"], _w[p + "mlp.fc2.bias"], e));
        }

        var ln = LayerNorm(x, rows, e, _w["visual.merger.ln_q.weight"], _w["visual.merger.ln_q.bias"]);
        var merged = rows / 4;
        var m1 = Linear(ln, merged, 4 * e, _w["visual.merger.mlp.0.weight"], _w["visual.merger.mlp.0.bias"], 4 * e);
        for (var i = 0; i < m1.Length; i++)
        {
            m1[i] = 0.5 * m1[i] * (1 + Erf(m1[i] / Math.Sqrt(2)));
        }

        return Linear(m1, merged, 4 * e, _w["visual.merger.mlp.2.weight"], _w["visual.merger.mlp.2.bias"], _config.HiddenSize);
    }

    /// <summary>Final-norm hidden states, flat <c>(B, L, hidden)</c>, for every position.</summary>
    public double[] Decoder(long[] ids, long[] mask, int batch, int length, long[] positions, double[]? imageFeatures)
    {
        int d = _config.HiddenSize, heads = _config.NumAttentionHeads, kvHeads = _config.NumKeyValueHeads, hd = _config.HeadDim;
        var n = batch * length;
        var x = new double[n * d];
        var embed = _w["model.embed_tokens.weight"];
        var feature = 0;
        for (var t = 0; t < n; t++)
        {
            if (imageFeatures is not null && ids[t] == _config.ImageTokenId)
            {
                Array.Copy(imageFeatures, feature++ * d, x, t * d, d);
            }
            else
            {
                Array.Copy(embed, ids[t] * d, x, t * d, d);
            }
        }

        // Which position stream each rotary frequency uses (mrope_section, spec §3.8).
        var stream = new int[hd / 2];
        for (int j = 0, s = 0, bound = _config.MropeSection[0]; j < hd / 2; j++)
        {
            while (j >= bound)
            {
                bound += _config.MropeSection[++s];
            }

            stream[j] = s;
        }

        for (var layer = 0; layer < _config.NumHiddenLayers; layer++)
        {
            var p = $"model.layers.{layer}.";
            var normed = RmsNorm(x, n, d, _w[p + "input_layernorm.weight"]);
            var q = Linear(normed, n, d, _w[p + "self_attn.q_proj.weight"], _w[p + "self_attn.q_proj.bias"], heads * hd);
            var k = Linear(normed, n, d, _w[p + "self_attn.k_proj.weight"], _w[p + "self_attn.k_proj.bias"], kvHeads * hd);
            var v = Linear(normed, n, d, _w[p + "self_attn.v_proj.weight"], _w[p + "self_attn.v_proj.bias"], kvHeads * hd);
            for (var b = 0; b < batch; b++)
            {
                for (var i = 0; i < length; i++)
                {
                    var t = (b * length) + i;
                    var angles = new double[hd / 2];
                    for (var j = 0; j < hd / 2; j++)
                    {
                        var position = positions[(stream[j] * n) + t];
                        angles[j] = position / Math.Pow(_config.RopeTheta, 2.0 * j / hd);
                    }

                    for (var h = 0; h < heads; h++)
                    {
                        Rotate(q, (t * heads * hd) + (h * hd), hd, angles);
                    }

                    for (var h = 0; h < kvHeads; h++)
                    {
                        Rotate(k, (t * kvHeads * hd) + (h * hd), hd, angles);
                    }
                }
            }

            var attended = new double[n * heads * hd];
            for (var b = 0; b < batch; b++)
            {
                for (var h = 0; h < heads; h++)
                {
                    var kv = h / (heads / kvHeads);
                    for (var i = 0; i < length; i++)
                    {
                        var qi = (b * length) + i;
                        var allowed = new bool[length];
                        var any = false;
                        for (var j = 0; j < length; j++)
                        {
                            allowed[j] = j <= i && mask[(b * length) + j] != 0;
                            any |= allowed[j];
                        }

                        // A query with no allowed key (a left-pad position) gets uniform weights over every key, as the
                        // reference's additive-minimum mask produces.
                        var weights = new double[length];
                        for (var j = 0; j < length; j++)
                        {
                            weights[j] = !any ? 0 : allowed[j] ? Dot(q, (qi * heads * hd) + (h * hd), k, (((b * length) + j) * kvHeads * hd) + (kv * hd), hd) / Math.Sqrt(hd) : double.NegativeInfinity;
                        }

                        Softmax(weights);
                        for (var j = 0; j < length; j++)
                        {
                            for (var c = 0; c < hd; c++)
                            {
                                attended[(qi * heads * hd) + (h * hd) + c] += weights[j] * v[(((b * length) + j) * kvHeads * hd) + (kv * hd) + c];
                            }
                        }
                    }
                }
            }

            Add(x, Linear(attended, n, heads * hd, _w[p + "self_attn.o_proj.weight"], null, d));
            normed = RmsNorm(x, n, d, _w[p + "post_attention_layernorm.weight"]);
            var inner = _config.IntermediateSize;
            var gate = Linear(normed, n, d, _w[p + "mlp.gate_proj.weight"], null, inner);
            var up = Linear(normed, n, d, _w[p + "mlp.up_proj.weight"], null, inner);
            for (var i = 0; i < gate.Length; i++)
            {
                gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            }

            Add(x, Linear(gate, n, inner, _w[p + "mlp.down_proj.weight"], null, d));
        }

        return RmsNorm(x, n, d, _w["model.norm.weight"]);
    }

    private static double[] Linear(double[] x, int rows, int inDim, double[] weight, double[]? bias, int outDim)
    {
        var y = new double[rows * outDim];
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < outDim; o++)
            {
                var sum = bias?[o] ?? 0;
                for (var i = 0; i < inDim; i++)
                {
                    sum += x[(r * inDim) + i] * weight[(o * inDim) + i];
                }

                y[(r * outDim) + o] = sum;
            }
        }

        return y;
    }

    private static double[] LayerNorm(double[] x, int rows, int dim, double[] weight, double[] bias)
    {
        var y = new double[x.Length];
        for (var r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (var i = 0; i < dim; i++)
            {
                mean += x[(r * dim) + i];
            }

            mean /= dim;
            for (var i = 0; i < dim; i++)
            {
                variance += Math.Pow(x[(r * dim) + i] - mean, 2);
            }

            variance /= dim;
            for (var i = 0; i < dim; i++)
            {
                y[(r * dim) + i] = ((x[(r * dim) + i] - mean) / Math.Sqrt(variance + 1e-6) * weight[i]) + bias[i];
            }
        }

        return y;
    }

    private double[] RmsNorm(double[] x, int rows, int dim, double[] weight)
    {
        var y = new double[x.Length];
        for (var r = 0; r < rows; r++)
        {
            double sum = 0;
            for (var i = 0; i < dim; i++)
            {
                sum += x[(r * dim) + i] * x[(r * dim) + i];
            }

            var scale = 1.0 / Math.Sqrt((sum / dim) + _config.RmsNormEps);
            for (var i = 0; i < dim; i++)
            {
                y[(r * dim) + i] = x[(r * dim) + i] * scale * weight[i];
            }
        }

        return y;
    }

    /// <summary>Rotation pairs (j, j + D/2) by angle[j] (the rotate-half convention).</summary>
    private static void Rotate(double[] data, int offset, int headDim, double[] angles)
    {
        var half = headDim / 2;
        for (var j = 0; j < half; j++)
        {
            double a = data[offset + j], b = data[offset + half + j];
            double c = Math.Cos(angles[j]), s = Math.Sin(angles[j]);
            data[offset + j] = (a * c) - (b * s);
            data[offset + half + j] = (b * c) + (a * s);
        }
    }

    private static double Dot(double[] a, int ao, double[] b, int bo, int count)
    {
        double sum = 0;
        for (var i = 0; i < count; i++)
        {
            sum += a[ao + i] * b[bo + i];
        }

        return sum;
    }

    private static void Softmax(double[] values)
    {
        var max = values.Max();
        double sum = 0;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Math.Exp(values[i] - max);
            sum += values[i];
        }

        for (var i = 0; i < values.Length; i++)
        {
            values[i] /= sum;
        }
    }

    private static void Add(double[] target, double[] delta)
    {
        for (var i = 0; i < target.Length; i++)
        {
            target[i] += delta[i];
        }
    }

    /// <summary>erf by the Abramowitz–Stegun 7.1.26 rational approximation (|error| &lt; 1.5e-7).</summary>
    private static double Erf(double x)
    {
        var sign = Math.Sign(x);
        x = Math.Abs(x);
        var t = 1 / (1 + (0.3275911 * x));
        var poly = ((((((((1.061405429 * t) - 1.453152027) * t) + 1.421413741) * t) - 0.284496736) * t) + 0.254829592) * t;
        var y = 1 - (poly * Math.Exp(-x * x));
        return sign * y;
    }
}
