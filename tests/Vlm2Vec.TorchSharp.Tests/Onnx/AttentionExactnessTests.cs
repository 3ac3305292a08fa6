using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// Decoder attention (causal + padding, grouped KV heads, HF-eager additive mask with float32's minimum) and ViT
/// block-diagonal attention (cu_seqlens), each formulation against the double-precision reference at every position.
/// </summary>
public sealed class AttentionExactnessTests(ITestOutputHelper output)
{
    private const int Batch = 3;
    private const int Sequence = 9;
    private const int Heads = 6;
    private const int KvHeads = 2;
    private const int HeadDim = 16;

    /// <summary>Row 0 full, row 1 with 3 pads, row 2 with a single real token.</summary>
    private static readonly long[] LeftPadded = Mask(Batch, Sequence, row => (Sequence - new[] { 9, 6, 1 }[row], Sequence));

    /// <summary>Row 0 full, row 1 with 2 pads, row 2 with 5 pads, on the right.</summary>
    private static readonly long[] RightPadded = Mask(Batch, Sequence, row => (0, new[] { 9, 7, 4 }[row]));

    [Theory]
    [InlineData(nameof(AttentionFormulation.MultiHeadAttention), 21, true)]
    [InlineData(nameof(AttentionFormulation.MultiHeadAttention), 21, false)]
    [InlineData(nameof(AttentionFormulation.OnnxAttention), 23, false)]
    [InlineData(nameof(AttentionFormulation.MatMulSoftmax), 21, true)]
    [InlineData(nameof(AttentionFormulation.MatMulSoftmax), 21, false)]
    public void Decoder_attention_matches_HF_eager_at_every_position(string formulationName, int opset, bool leftPadding)
    {
        var formulation = Enum.Parse<AttentionFormulation>(formulationName);
        var mask = leftPadding ? LeftPadded : RightPadded;
        var (actual, expected) = RunDecoder(formulation, opset, mask);

        var error = Numerics.AssertClose(expected, actual, what: $"{formulation} (left padding: {leftPadding})");
        output.WriteLine($"Decoder attention {formulation}, {(leftPadding ? "left" : "right")} padding: max scaled error {error:E2} over all positions");
    }

    [Theory]
    [InlineData(nameof(AttentionFormulation.GroupQueryAttention), 21)]
    [InlineData(nameof(AttentionFormulation.OnnxAttention), 23)]
    public void Left_padding_matches_real_tokens_but_not_fully_masked_padded_rows(string formulationName, int opset)
    {
        var formulation = Enum.Parse<AttentionFormulation>(formulationName);
        var (actual, expected) = RunDecoder(formulation, opset, LeftPadded);

        // Real (unpadded) query positions match: the additive bias carries the padding.
        var real = Rows(LeftPadded, real: true);
        var realError = Numerics.MaxScaledError(real.Select(i => expected[i]).ToArray(), real.Select(i => actual[i]).ToArray());
        Assert.True(realError <= 1e-5, $"{formulation} real-token error {realError:E3}");

        // Padded query rows (every key masked) differ from HF eager, which softmaxes such a row to a uniform average over
        // all keys: these kernels write zeros for a fully masked row. Harmless for pooling (the pooled token is real),
        // but the hidden states of padded positions are not HF's.
        var padded = Rows(LeftPadded, real: false);
        var paddedError = Numerics.MaxScaledError(padded.Select(i => expected[i]).ToArray(), padded.Select(i => actual[i]).ToArray());
        Assert.True(paddedError > 1e-3, $"{formulation} now matches padded rows too (error {paddedError:E3}); update Onnx/README.md");
        var paddedOutput = Rows(LeftPadded, real: false).Select(i => actual[i]).ToArray();
        output.WriteLine($"{formulation} left padding: real tokens {realError:E2}, padded rows {paddedError:E2} " +
            $"(padded-row outputs: max |y| {paddedOutput.Max(Math.Abs):G3}, NaN: {paddedOutput.Any(float.IsNaN)})");
    }

    [Fact]
    public void GroupQueryAttention_is_exact_for_right_padding()
    {
        var (actual, expected) = RunDecoder(AttentionFormulation.GroupQueryAttention, 21, RightPadded);
        var error = Numerics.AssertClose(expected, actual, what: "GQA right padding");
        output.WriteLine($"GroupQueryAttention right padding: max scaled error {error:E2} over all positions");
    }

    [Theory]
    [InlineData(nameof(AttentionFormulation.MultiHeadAttention), 21)]
    [InlineData(nameof(AttentionFormulation.OnnxAttention), 23)]
    [InlineData(nameof(AttentionFormulation.MatMulSoftmax), 21)]
    public void Vision_block_diagonal_attention_matches_reference(string formulationName, int opset)
    {
        var formulation = Enum.Parse<AttentionFormulation>(formulationName);
        const int heads = 16, headDim = 80, width = heads * headDim;
        long[] cuSeqlens = [0, 24, 32, 48];
        var patches = (int)cuSeqlens[^1];
        var q = Numerics.Normal(41, patches * width);
        var k = Numerics.Normal(42, patches * width);
        var v = Numerics.Normal(43, patches * width);

        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        string[] qkv = [g.AddInput("q", DataType.Float, ["patches", width]), g.AddInput("k", DataType.Float, ["patches", width]), g.AddInput("v", DataType.Float, ["patches", width])];
        var cu = g.AddInput("cu_seqlens", DataType.Int64, ["images_plus_one"]);
        var bias = g.BlockDiagonalBias(cu);
        var y = g.Attention(g.Unsqueeze(qkv[0], 0), g.Unsqueeze(qkv[1], 0), g.Unsqueeze(qkv[2], 0), bias, heads, heads, headDim, formulation);
        g.AddOutput(g.Squeeze(y, 0), DataType.Float, ["patches", width], "y");

        var actual = OrtTestRunner.Run(g,
        [
            OrtInput.Of("q", q, patches, width), OrtInput.Of("k", k, patches, width), OrtInput.Of("v", v, patches, width),
            OrtInput.Of("cu_seqlens", cuSeqlens, cuSeqlens.Length),
        ])["y"].Floats;

        int Segment(int p) => Array.FindIndex(cuSeqlens, 1, end => p < end);
        var expected = Reference.Attention(q, k, v, 1, patches, patches, heads, heads, headDim, (_, i, j) => Segment(i) == Segment(j));
        var error = Numerics.AssertClose(expected, actual, what: formulation.ToString());
        output.WriteLine($"Vision block-diagonal attention {formulation} (16 heads × 80, 3 images): max scaled error {error:E2}");
    }

    [Fact]
    public void Block_diagonal_bias_is_zero_exactly_within_each_image()
    {
        long[] cuSeqlens = [0, 2, 5, 6];
        var g = new OnnxGraphBuilder();
        var cu = g.AddInput("cu_seqlens", DataType.Int64, ["n"]);
        g.AddOutput(g.BlockDiagonalBias(cu), DataType.Float, [1, 1, "p", "p"], "bias");

        var bias = OrtTestRunner.Run(g, [OrtInput.Of("cu_seqlens", cuSeqlens, 4)])["bias"];

        Assert.Equal(new long[] { 1, 1, 6, 6 }, bias.Shape);
        int[] segment = [0, 0, 1, 1, 1, 2];
        for (var i = 0; i < 6; i++)
        {
            for (var j = 0; j < 6; j++)
            {
                Assert.Equal(segment[i] == segment[j] ? 0f : float.MinValue, bias.Floats[(i * 6) + j]);
            }
        }
    }

    private static (float[] Actual, double[] Expected) RunDecoder(AttentionFormulation formulation, int opset, long[] mask)
    {
        var q = Numerics.Normal(31, Batch * Sequence * Heads * HeadDim, std: 1.5);
        var k = Numerics.Normal(32, Batch * Sequence * KvHeads * HeadDim, std: 1.5);
        var v = Numerics.Normal(33, Batch * Sequence * KvHeads * HeadDim);

        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var qName = g.AddInput("q", DataType.Float, ["batch", "sequence", Heads * HeadDim]);
        var kName = g.AddInput("k", DataType.Float, ["batch", "sequence", KvHeads * HeadDim]);
        var vName = g.AddInput("v", DataType.Float, ["batch", "sequence", KvHeads * HeadDim]);
        var maskName = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        var y = g.Attention(qName, kName, vName, g.CausalPaddingBias(maskName), Heads, KvHeads, HeadDim, formulation);
        g.AddOutput(y, DataType.Float, ["batch", "sequence", Heads * HeadDim], "y");

        var actual = OrtTestRunner.Run(g,
        [
            OrtInput.Of("q", q, Batch, Sequence, Heads * HeadDim), OrtInput.Of("k", k, Batch, Sequence, KvHeads * HeadDim),
            OrtInput.Of("v", v, Batch, Sequence, KvHeads * HeadDim), OrtInput.Of("attention_mask", mask, Batch, Sequence),
        ])["y"].Floats;
        var expected = Reference.Attention(q, k, v, Batch, Sequence, Sequence, Heads, KvHeads, HeadDim,
            (b, i, j) => j <= i && mask[(b * Sequence) + j] == 1);
        return (actual, expected);
    }

    /// <summary>Flat output indices of query rows that are (or are not) real tokens.</summary>
    private static int[] Rows(long[] mask, bool real)
    {
        var indices = new List<int>();
        for (var b = 0; b < Batch; b++)
        {
            for (var s = 0; s < Sequence; s++)
            {
                if ((mask[(b * Sequence) + s] == 1) == real)
                {
                    var start = ((b * Sequence) + s) * Heads * HeadDim;
                    indices.AddRange(Enumerable.Range(start, Heads * HeadDim));
                }
            }
        }

        return [.. indices];
    }

    private static long[] Mask(int batch, int sequence, Func<int, (int Start, int End)> realRange)
    {
        var mask = new long[batch * sequence];
        for (var b = 0; b < batch; b++)
        {
            var (start, end) = realRange(b);
            for (var s = start; s < end; s++)
            {
                mask[(b * sequence) + s] = 1;
            }
        }

        return mask;
    }
}
