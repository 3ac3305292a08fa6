using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>VLM2Vec's last-token pooling rule and L2 normalisation (spec §1.4).</summary>
public sealed class PoolingExactnessTests(ITestOutputHelper output)
{
    private const int Sequence = 6;
    private const int Hidden = 32;

    [Theory]
    [InlineData("left", new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1 }, new long[] { 5, 5, 5 })]
    [InlineData("right", new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0 }, new long[] { 5, 3, 0 })]
    [InlineData("all-padding row", new long[] { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0 }, new long[] { 2, 5, 1 })]
    public void Last_token_index_follows_VLM2Vec_rule(string name, long[] mask, long[] expected)
    {
        var g = new OnnxGraphBuilder();
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        g.AddOutput(g.LastTokenIndex(m), DataType.Int64, ["batch"], "index");

        var index = OrtTestRunner.Run(g, [OrtInput.Of("attention_mask", mask, 3, Sequence)])["index"].Longs;

        Assert.Equal(expected, index);
        output.WriteLine($"{name}: {string.Join(",", index)}");
    }

    [Fact]
    public void Pooled_and_normalised_embedding_matches_reference()
    {
        long[] mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1];
        var hidden = Numerics.Normal(61, 3 * Sequence * Hidden, std: 5.0);
        var g = new OnnxGraphBuilder();
        var h = g.AddInput("hidden", DataType.Float, ["batch", "sequence", Hidden]);
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        g.AddOutput(g.L2Normalize(g.PoolLastToken(h, m)), DataType.Float, ["batch", Hidden], "embedding");

        var embedding = OrtTestRunner.Run(g, [OrtInput.Of("hidden", hidden, 3, Sequence, Hidden), OrtInput.Of("attention_mask", mask, 3, Sequence)])["embedding"];

        Assert.Equal(new long[] { 3, Hidden }, embedding.Shape);
        var expected = new double[3 * Hidden];
        for (var b = 0; b < 3; b++)
        {
            var row = hidden.Skip(((b * Sequence) + Sequence - 1) * Hidden).Take(Hidden).Select(v => (double)v).ToArray();
            var norm = Math.Max(Math.Sqrt(row.Sum(v => v * v)), 1e-12);
            for (var j = 0; j < Hidden; j++)
            {
                expected[(b * Hidden) + j] = row[j] / norm;
            }
        }

        var error = Numerics.AssertClose(expected, embedding.Floats, 1e-6);
        output.WriteLine($"Last-token pool + L2: max scaled error {error:E2}");
    }

    [Fact]
    public void ReduceL2_clamp_follows_F_normalize_on_tiny_and_zero_vectors_where_LpNormalization_does_not()
    {
        // Row 0 has norm 5e-20 (below the 1e-12 clamp), row 1 is zero.
        float[] x = [3e-20f, 4e-20f, 0, 0, 0, 0];
        var clamped = Normalize(x, L2NormFormulation.ReduceL2Clamp);
        Assert.Equal(3e-8f, clamped[0], 1e-13f);
        Assert.Equal(4e-8f, clamped[1], 1e-13f);
        Assert.Equal(new[] { 0f, 0f, 0f }, clamped[3..]);

        var lp = Normalize(x, L2NormFormulation.LpNormalization);
        Assert.Equal(0.6f, lp[0], 1e-6f);
        Assert.Equal(0.8f, lp[1], 1e-6f);
        Assert.Equal(new[] { 0f, 0f, 0f }, lp[3..]);
        output.WriteLine($"norm 5e-20: clamp gives [{clamped[0]:G3}, {clamped[1]:G3}], LpNormalization [{lp[0]}, {lp[1]}]; zero row → 0 with both");
    }

    private static float[] Normalize(float[] x, L2NormFormulation formulation)
    {
        var g = new OnnxGraphBuilder();
        g.AddInput("x", DataType.Float, [2, 3]);
        g.AddOutput(g.L2Normalize("x", formulation), DataType.Float, [2, 3], "y");
        return OrtTestRunner.Run(g, [OrtInput.Of("x", x, 2, 3)])["y"].Floats;
    }
}
