using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// float16 variants for the GPU export: inputs and weights float16, float32 where the reference uses float32 (norm
/// statistics, rotary cos/sin, softmax, ViT rotary application). Checked against the float32/double reference on the
/// original float32 inputs: the minimum per-vector cosine must reach 0.999. On the CPU provider ORT may run a float16
/// node through float32 (its cast-insertion pass covers kernels without float16 support), so this is an upper bound
/// on what CUDA gives; the same graphs should be re-checked on a GPU.
/// </summary>
public sealed class Fp16Tests(ITestOutputHelper output)
{
    private const double MinimumCosine = 0.999;

    [Theory]
    [InlineData(nameof(RmsNormFormulation.SimplifiedLayerNormalization), 21)]
    [InlineData(nameof(RmsNormFormulation.RmsNormalization), 23)]
    [InlineData(nameof(RmsNormFormulation.OpChain), 21)]
    public void RmsNorm_fp16(string formulationName, int opset)
    {
        var formulation = Enum.Parse<RmsNormFormulation>(formulationName);
        const int rows = 10, hidden = 384;
        var x = Numerics.Normal(11, rows * hidden, std: 3.0);
        var w = Numerics.Normal(13, hidden, std: 0.2, mean: 1.0);
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var xName = g.AddInput("x", DataType.Float16, ["rows", hidden]);
        var wName = g.AddInitializer("w", w, [hidden], DataType.Float16);
        g.AddOutput(g.RmsNorm(xName, wName, 1e-6f, formulation, DataType.Float16), DataType.Float16, ["rows", hidden], "y");

        var y = OrtTestRunner.Run(g, [OrtInput.Of("x", Numerics.ToHalf(x), rows, hidden)])["y"];

        Report($"RMSNorm {formulation}", Reference.RmsNorm(x, w, hidden, 1e-6), y, hidden);
    }

    [Fact]
    public void SkipRmsNorm_and_SkipLayerNorm_fp16()
    {
        const int rows = 10, hidden = 384;
        var x = Numerics.Normal(11, rows * hidden, std: 3.0);
        var residual = Numerics.Normal(12, rows * hidden, std: 2.0);
        var w = Numerics.Normal(13, hidden, std: 0.2, mean: 1.0);
        var bias = Numerics.Normal(14, hidden, std: 0.5);
        var g = new OnnxGraphBuilder();
        var xName = g.AddInput("x", DataType.Float16, ["rows", hidden]);
        var rName = g.AddInput("residual", DataType.Float16, ["rows", hidden]);
        var wName = g.AddInitializer("w", w, [hidden], DataType.Float16);
        var bName = g.AddInitializer("b", bias, [hidden], DataType.Float16);
        g.AddOutput(g.SkipRmsNorm(xName, rName, wName, 1e-6f, fused: true).Output, DataType.Float16, ["rows", hidden], "rms");
        g.AddOutput(g.SkipLayerNorm(xName, rName, wName, bName, 1e-6f).Output, DataType.Float16, ["rows", hidden], "ln");

        var outputs = OrtTestRunner.Run(g, [OrtInput.Of("x", Numerics.ToHalf(x), rows, hidden), OrtInput.Of("residual", Numerics.ToHalf(residual), rows, hidden)]);

        var sum = Reference.AddFloat(residual, x);
        Report("SkipSimplifiedLayerNormalization", Reference.RmsNorm(sum, w, hidden, 1e-6), outputs["rms"], hidden);
        Report("SkipLayerNormalization", Reference.LayerNorm(sum, w, bias, hidden, 1e-6), outputs["ln"], hidden);
    }

    [Theory]
    [InlineData(nameof(RotaryFormulation.MicrosoftRotaryFlattenedCache), 21)]
    [InlineData(nameof(RotaryFormulation.OnnxRotaryPerTokenCache), 23)]
    [InlineData(nameof(RotaryFormulation.Explicit), 21)]
    public void Mrope_fp16_with_float32_cos_sin_cast_to_fp16(string formulationName, int opset)
    {
        // HF (LLM): cos/sin computed in float32, cast to the activation dtype, applied in that dtype.
        var formulation = Enum.Parse<RotaryFormulation>(formulationName);
        const int batch = 2, sequence = 12, heads = 3, headDim = 128;
        var q = Numerics.Normal(21, batch * sequence * heads * headDim);
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var x = g.AddInput("q", DataType.Float16, ["batch", "sequence", heads * headDim]);
        var positions = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        var (cos, sin) = g.MropeCosSin(positions, RotaryExactnessTests.DecoderInvFreq, [16, 24, 24]);
        var y = g.ApplyRotary(x, g.Cast(cos, DataType.Float16), g.Cast(sin, DataType.Float16), heads, headDim, formulation);
        g.AddOutput(y, DataType.Float16, ["batch", "sequence", heads * headDim], "y");

        var result = OrtTestRunner.Run(g, [OrtInput.Of("q", Numerics.ToHalf(q), batch, sequence, heads * headDim), OrtInput.Of("position_ids", RotaryExactnessTests.Positions3, 3, batch, sequence)])["y"];

        var angles = Reference.MropeAngles(RotaryExactnessTests.Positions3, batch, sequence, RotaryExactnessTests.DecoderInvFreq, [16, 24, 24]);
        Report($"M-RoPE {formulation}", Reference.RotateHalf(q, angles, heads, headDim), result, headDim);
    }

    [Theory]
    [InlineData(nameof(RotaryFormulation.MicrosoftRotaryFlattenedCache))]
    [InlineData(nameof(RotaryFormulation.Explicit))]
    public void Vision_rotary_fp16_applied_in_float32(string formulationName)
    {
        // HF (ViT): q/k cast to float32, rotated with float32 cos/sin, cast back.
        var formulation = Enum.Parse<RotaryFormulation>(formulationName);
        const int heads = 4, headDim = 80;
        var rowColumn = RotaryExactnessTests.VisionRowColumnIds([(1, 4, 6), (2, 2, 4)]);
        var patches = rowColumn.Length / 2;
        var q = Numerics.Normal(22, patches * heads * headDim);
        var g = new OnnxGraphBuilder();
        var x = g.AddInput("q", DataType.Float16, ["patches", heads * headDim]);
        var ids = g.AddInput("rotary_pos_ids", DataType.Int64, ["patches", 2]);
        var (cos, sin) = g.VisionRotaryCosSin(ids, RotaryExactnessTests.VisionInvFreq);
        var rotated = g.ApplyRotary(g.Unsqueeze(g.Cast(x, DataType.Float), 0), g.Unsqueeze(cos, 0), g.Unsqueeze(sin, 0), heads, headDim, formulation);
        g.AddOutput(g.Cast(g.Squeeze(rotated, 0), DataType.Float16), DataType.Float16, ["patches", heads * headDim], "y");

        var y = OrtTestRunner.Run(g, [OrtInput.Of("q", Numerics.ToHalf(q), patches, heads * headDim), OrtInput.Of("rotary_pos_ids", rowColumn, patches, 2)])["y"];

        Report($"Vision rotary {formulation}", Reference.RotateHalf(q, Reference.VisionAngles(rowColumn, RotaryExactnessTests.VisionInvFreq), heads, headDim), y, headDim);
    }

    [Theory]
    [InlineData(nameof(AttentionFormulation.MultiHeadAttention), 21)]
    [InlineData(nameof(AttentionFormulation.OnnxAttention), 23)]
    [InlineData(nameof(AttentionFormulation.MatMulSoftmax), 21)]
    [InlineData(nameof(AttentionFormulation.GroupQueryAttention), 21)]
    public void Decoder_attention_fp16_real_tokens(string formulationName, int opset)
    {
        var formulation = Enum.Parse<AttentionFormulation>(formulationName);
        const int batch = 3, sequence = 9, heads = 6, kvHeads = 2, headDim = 64;
        long[] mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        var q = Numerics.Normal(31, batch * sequence * heads * headDim);
        var k = Numerics.Normal(32, batch * sequence * kvHeads * headDim);
        var v = Numerics.Normal(33, batch * sequence * kvHeads * headDim);
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var qName = g.AddInput("q", DataType.Float16, ["batch", "sequence", heads * headDim]);
        var kName = g.AddInput("k", DataType.Float16, ["batch", "sequence", kvHeads * headDim]);
        var vName = g.AddInput("v", DataType.Float16, ["batch", "sequence", kvHeads * headDim]);
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        var y = g.Attention(qName, kName, vName, g.CausalPaddingBias(m, DataType.Float16), heads, kvHeads, headDim, formulation, DataType.Float16);
        g.AddOutput(y, DataType.Float16, ["batch", "sequence", heads * headDim], "y");

        var result = OrtTestRunner.Run(g,
        [
            OrtInput.Of("q", Numerics.ToHalf(q), batch, sequence, heads * headDim), OrtInput.Of("k", Numerics.ToHalf(k), batch, sequence, kvHeads * headDim),
            OrtInput.Of("v", Numerics.ToHalf(v), batch, sequence, kvHeads * headDim), OrtInput.Of("attention_mask", mask, batch, sequence),
        ])["y"];

        var expected = Reference.Attention(q, k, v, batch, sequence, sequence, heads, kvHeads, headDim, (b, i, j) => j <= i && mask[(b * sequence) + j] == 1);
        var realRows = Enumerable.Range(0, batch * sequence).Where(t => mask[t] == 1).ToArray();
        Report($"Decoder attention {formulation} (real tokens)", expected, result, headDim, realRows.SelectMany(t => Enumerable.Range(t * heads, heads)).ToArray());
    }

    [Theory]
    [InlineData(nameof(AttentionFormulation.MultiHeadAttention), 21)]
    [InlineData(nameof(AttentionFormulation.OnnxAttention), 23)]
    [InlineData(nameof(AttentionFormulation.MatMulSoftmax), 21)]
    public void Vision_attention_fp16(string formulationName, int opset)
    {
        var formulation = Enum.Parse<AttentionFormulation>(formulationName);
        const int heads = 16, headDim = 80, width = heads * headDim;
        long[] cuSeqlens = [0, 24, 32, 48];
        var patches = (int)cuSeqlens[^1];
        var q = Numerics.Normal(41, patches * width);
        var k = Numerics.Normal(42, patches * width);
        var v = Numerics.Normal(43, patches * width);
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        string[] qkv = [g.AddInput("q", DataType.Float16, ["patches", width]), g.AddInput("k", DataType.Float16, ["patches", width]), g.AddInput("v", DataType.Float16, ["patches", width])];
        var cu = g.AddInput("cu_seqlens", DataType.Int64, ["n"]);
        var y = g.Attention(g.Unsqueeze(qkv[0], 0), g.Unsqueeze(qkv[1], 0), g.Unsqueeze(qkv[2], 0), g.BlockDiagonalBias(cu, DataType.Float16), heads, heads, headDim, formulation, DataType.Float16);
        g.AddOutput(g.Squeeze(y, 0), DataType.Float16, ["patches", width], "y");

        var result = OrtTestRunner.Run(g,
        [
            OrtInput.Of("q", Numerics.ToHalf(q), patches, width), OrtInput.Of("k", Numerics.ToHalf(k), patches, width),
            OrtInput.Of("v", Numerics.ToHalf(v), patches, width), OrtInput.Of("cu_seqlens", cuSeqlens, 4),
        ])["y"];

        int Segment(int p) => Array.FindIndex(cuSeqlens, 1, end => p < end);
        Report($"Vision attention {formulation}", Reference.Attention(q, k, v, 1, patches, patches, heads, heads, headDim, (_, i, j) => Segment(i) == Segment(j)), result, headDim);
    }

    [Fact]
    public void Activations_fp16()
    {
        const int count = 4096;
        var x = Numerics.Normal(51, count, std: 4.0);
        var up = Numerics.Normal(52, count, std: 2.0);
        var g = new OnnxGraphBuilder();
        var xName = g.AddInput("x", DataType.Float16, [16, 256]);
        var upName = g.AddInput("up", DataType.Float16, [16, 256]);
        g.AddOutput(g.QuickGelu(xName, dtype: DataType.Float16), DataType.Float16, [16, 256], "quick_gelu");
        g.AddOutput(g.Gelu(xName, dtype: DataType.Float16), DataType.Float16, [16, 256], "gelu");
        g.AddOutput(g.SwiGlu(xName, upName), DataType.Float16, [16, 256], "swiglu");

        var outputs = OrtTestRunner.Run(g, [OrtInput.Of("x", Numerics.ToHalf(x), 16, 256), OrtInput.Of("up", Numerics.ToHalf(up), 16, 256)]);

        Report("QuickGelu", x.Select(v => Reference.QuickGelu(v)).ToArray(), outputs["quick_gelu"], 256);
        Report("Gelu", x.Select(v => Reference.Gelu(v)).ToArray(), outputs["gelu"], 256);
        Report("SwiGLU", x.Select((v, i) => Reference.QuickGelu(v, 1.0) * up[i]).ToArray(), outputs["swiglu"], 256);
    }

    [Fact]
    public void Pool_and_normalise_fp16_hidden_to_float32_embedding()
    {
        const int batch = 3, sequence = 6, hidden = 256;
        long[] mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1];
        var h = Numerics.Normal(61, batch * sequence * hidden, std: 5.0);
        var g = new OnnxGraphBuilder();
        var hName = g.AddInput("hidden", DataType.Float16, ["batch", "sequence", hidden]);
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        g.AddOutput(g.L2Normalize(g.Cast(g.PoolLastToken(hName, m), DataType.Float)), DataType.Float, ["batch", hidden], "embedding");

        var embedding = OrtTestRunner.Run(g, [OrtInput.Of("hidden", Numerics.ToHalf(h), batch, sequence, hidden), OrtInput.Of("attention_mask", mask, batch, sequence)])["embedding"];

        Assert.Equal(TensorElementTypeFloat, embedding.ElementType);
        var expected = new double[batch * hidden];
        for (var b = 0; b < batch; b++)
        {
            var row = h.Skip(((b * sequence) + sequence - 1) * hidden).Take(hidden).Select(v => (double)v).ToArray();
            var norm = Math.Sqrt(row.Sum(v => v * v));
            for (var j = 0; j < hidden; j++)
            {
                expected[(b * hidden) + j] = row[j] / norm;
            }
        }

        Report("Pool + L2 (fp16 hidden)", expected, embedding, hidden);
    }

    private const Microsoft.ML.OnnxRuntime.Tensors.TensorElementType TensorElementTypeFloat = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float;

    /// <summary>Asserts the minimum cosine over vectors of <paramref name="vector"/> elements (optionally only the listed
    /// vector indices) and prints it with the largest absolute error.</summary>
    private void Report(string what, double[] expected, OrtOutput actual, int vector, int[]? vectors = null)
    {
        Assert.Equal(expected.Length, actual.Floats.Length);
        vectors ??= Enumerable.Range(0, expected.Length / vector).ToArray();
        var minCosine = 1.0;
        var maxError = 0.0;
        foreach (var index in vectors)
        {
            var e = new ArraySegment<double>(expected, index * vector, vector);
            var a = new ArraySegment<float>(actual.Floats, index * vector, vector);
            minCosine = Math.Min(minCosine, Numerics.Cosine(e, a));
            for (var j = 0; j < vector; j++)
            {
                maxError = Math.Max(maxError, Math.Abs(e[j] - a[j]));
            }
        }

        Assert.True(minCosine >= MinimumCosine, $"{what}: minimum cosine {minCosine:F6} < {MinimumCosine}");
        output.WriteLine($"fp16 {what}: 1 − min cosine {1 - minCosine:E1}, max abs error {maxError:E2}");
    }
}
