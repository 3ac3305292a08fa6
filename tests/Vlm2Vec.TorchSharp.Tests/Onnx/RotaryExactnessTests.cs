using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// Decoder M-RoPE (three position streams stitched by mrope_section) and the ViT's 2-D rotary, each formulation
/// against the double-precision rotate-half reference with HF's float32 angles.
/// </summary>
public sealed class RotaryExactnessTests(ITestOutputHelper output)
{
    private const int Heads = 3;
    private const int HeadDim = 128;
    private static readonly int[] MropeSection = [16, 24, 24];

    /// <summary>Row 0: the spec's §3.8 worked example (text, a 1×2×3 merged image, text) shifted by 4000 so angles are
    /// large; row 1: a left-padded 1-D prompt (padding filled with 1, as HF does).</summary>
    internal static readonly long[] Positions3 = BuildPositions();

    internal static float[] DecoderInvFreq { get; } = InvFreq(1_000_000.0, HeadDim);

    internal static float[] VisionInvFreq { get; } = InvFreq(10_000.0, 40);

    [Theory]
    [InlineData(nameof(RotaryFormulation.MicrosoftRotaryFlattenedCache), 21)]
    [InlineData(nameof(RotaryFormulation.OnnxRotaryPerTokenCache), 23)]
    [InlineData(nameof(RotaryFormulation.Explicit), 21)]
    public void Mrope_from_three_position_streams_matches_reference(string formulationName, int opset)
    {
        var formulation = Enum.Parse<RotaryFormulation>(formulationName);
        const int batch = 2, sequence = 12;
        var q = Numerics.Normal(21, batch * sequence * Heads * HeadDim);
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var x = g.AddInput("q", DataType.Float, ["batch", "sequence", Heads * HeadDim]);
        var positions = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        var (cos, sin) = g.MropeCosSin(positions, DecoderInvFreq, MropeSection);
        g.AddOutput(g.ApplyRotary(x, cos, sin, Heads, HeadDim, formulation), DataType.Float, ["batch", "sequence", Heads * HeadDim], "y");
        g.AddOutput(cos, DataType.Float, ["batch", "sequence", HeadDim / 2], "cos");

        var outputs = OrtTestRunner.Run(g, [OrtInput.Of("q", q, batch, sequence, Heads * HeadDim), OrtInput.Of("position_ids", Positions3, 3, batch, sequence)]);

        var angles = Reference.MropeAngles(Positions3, batch, sequence, DecoderInvFreq, MropeSection);
        var cosError = Numerics.AssertClose(angles.Select(a => Math.Cos(a)).ToArray(), outputs["cos"].Floats, 1e-6, "cos");
        var error = Numerics.AssertClose(Reference.RotateHalf(q, angles, Heads, HeadDim), outputs["y"].Floats, what: formulation.ToString());
        output.WriteLine($"M-RoPE {formulation}: max scaled error {error:E2} (cos {cosError:E2})");
    }

    [Fact]
    public void Mrope_with_the_MRotaryEmbedding_contrib_op_and_position_tables_matches_reference()
    {
        const int batch = 2, sequence = 12, maxPositions = 4096 + 16;
        var q = Numerics.Normal(21, batch * sequence * Heads * HeadDim);
        var (cosTable, sinTable) = OnnxBlocks.RotaryTables(DecoderInvFreq, maxPositions);
        var g = new OnnxGraphBuilder();
        var x = g.AddInput("q", DataType.Float, ["batch", "sequence", Heads * HeadDim]);
        var positions = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        var cos = g.AddInitializer("cos_cache", cosTable, [maxPositions, HeadDim / 2]);
        var sin = g.AddInitializer("sin_cache", sinTable, [maxPositions, HeadDim / 2]);
        g.AddOutput(g.ApplyMrope(x, positions, cos, sin, MropeSection, Heads), DataType.Float, ["batch", "sequence", Heads * HeadDim], "y");

        var y = OrtTestRunner.Run(g, [OrtInput.Of("q", q, batch, sequence, Heads * HeadDim), OrtInput.Of("position_ids", Positions3, 3, batch, sequence)])["y"];

        var angles = Reference.MropeAngles(Positions3, batch, sequence, DecoderInvFreq, MropeSection);
        var error = Numerics.AssertClose(Reference.RotateHalf(q, angles, Heads, HeadDim), y.Floats, what: "MRotaryEmbedding");
        output.WriteLine($"M-RoPE MRotaryEmbedding (tables): max scaled error {error:E2}");
    }

    [Theory]
    [InlineData(nameof(RotaryFormulation.MicrosoftRotaryFlattenedCache), 21)]
    [InlineData(nameof(RotaryFormulation.OnnxRotaryPerTokenCache), 23)]
    [InlineData(nameof(RotaryFormulation.Explicit), 21)]
    public void Vision_2d_rotary_matches_reference(string formulationName, int opset)
    {
        var formulation = Enum.Parse<RotaryFormulation>(formulationName);
        const int visionHeads = 4, visionHeadDim = 80;
        var rowColumn = VisionRowColumnIds([(1, 4, 6), (2, 2, 4)]);
        var patches = rowColumn.Length / 2;
        var q = Numerics.Normal(22, patches * visionHeads * visionHeadDim);

        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var x = g.AddInput("q", DataType.Float, ["patches", visionHeads * visionHeadDim]);
        var ids = g.AddInput("rotary_pos_ids", DataType.Int64, ["patches", 2]);
        var (cos, sin) = g.VisionRotaryCosSin(ids, VisionInvFreq);
        var rotated = g.ApplyRotary(g.Unsqueeze(x, 0), g.Unsqueeze(cos, 0), g.Unsqueeze(sin, 0), visionHeads, visionHeadDim, formulation);
        g.AddOutput(g.Squeeze(rotated, 0), DataType.Float, ["patches", visionHeads * visionHeadDim], "y");

        var y = OrtTestRunner.Run(g, [OrtInput.Of("q", q, patches, visionHeads * visionHeadDim), OrtInput.Of("rotary_pos_ids", rowColumn, patches, 2)])["y"];

        var angles = Reference.VisionAngles(rowColumn, VisionInvFreq);
        var error = Numerics.AssertClose(Reference.RotateHalf(q, angles, visionHeads, visionHeadDim), y.Floats, what: formulation.ToString());
        output.WriteLine($"Vision rotary {formulation}: max scaled error {error:E2}");
    }

    [Fact]
    public void Vision_row_column_ids_follow_the_2x2_merge_block_order()
    {
        // Spec §4.7: for a 4×4 patch grid the first rows are (0,0), (0,1), (1,0), (1,1), then (0,2), (0,3), (1,2), (1,3).
        var ids = VisionRowColumnIds([(1, 4, 4)]);
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 0, 1, 1, 0, 2, 0, 3, 1, 2, 1, 3 }, ids.Take(16).ToArray());
    }

    /// <summary>HF's <c>inv_freq = 1 / θ^(2k/D)</c>, k &lt; D/2, rounded to float32.</summary>
    internal static float[] InvFreq(double theta, int dim) =>
        Enumerable.Range(0, dim / 2).Select(k => (float)(1.0 / Math.Pow(theta, 2.0 * k / dim))).ToArray();

    /// <summary>The ViT's (row, column) id per patch row, (P, 2), in the 2×2 merge-block order, repeated per frame.</summary>
    internal static long[] VisionRowColumnIds(IEnumerable<(int T, int H, int W)> grids)
    {
        var ids = new List<long>();
        foreach (var (t, h, w) in grids)
        {
            for (var frame = 0; frame < t; frame++)
            {
                for (var blockRow = 0; blockRow < h / 2; blockRow++)
                {
                    for (var blockColumn = 0; blockColumn < w / 2; blockColumn++)
                    {
                        for (var dr = 0; dr < 2; dr++)
                        {
                            for (var dc = 0; dc < 2; dc++)
                            {
                                ids.Add((blockRow * 2) + dr);
                                ids.Add((blockColumn * 2) + dc);
                            }
                        }
                    }
                }
            }
        }

        return [.. ids];
    }

    private static long[] BuildPositions()
    {
        const int batch = 2, sequence = 12;
        long[] t = [0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7, 8];
        long[] h = [0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7, 8];
        long[] w = [0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8];
        var positions = new long[3 * batch * sequence];
        for (var s = 0; s < sequence; s++)
        {
            positions[(0 * batch * sequence) + s] = t[s] + 4000;
            positions[(1 * batch * sequence) + s] = h[s] + 4000;
            positions[(2 * batch * sequence) + s] = w[s] + 4000;
            var padded = s < 3 ? 1 : s - 3;
            for (var stream = 0; stream < 3; stream++)
            {
                positions[(((stream * batch) + 1) * sequence) + s] = padded;
            }
        }

        return positions;
    }
}
