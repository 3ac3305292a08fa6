using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>Merging vision features into the token embeddings (spec §3.6: masked_scatter in reading order).</summary>
public sealed class ImageScatterExactnessTests(ITestOutputHelper output)
{
    private const long ImageToken = 151655;
    private const int Sequence = 7;
    private const int Hidden = 8;

    [Theory]
    [InlineData(nameof(ImageScatterFormulation.NonZeroScatterND), true)]
    [InlineData(nameof(ImageScatterFormulation.NonZeroScatterND), false)]
    [InlineData(nameof(ImageScatterFormulation.CumSumGatherWhere), true)]
    [InlineData(nameof(ImageScatterFormulation.CumSumGatherWhere), false)]
    public void Features_land_on_image_tokens_in_reading_order(string formulationName, bool anyImages)
    {
        var formulation = Enum.Parse<ImageScatterFormulation>(formulationName);

        // Row 0: 3 image tokens; row 1: none (text-only row); row 2: 2 image tokens.
        long[] ids = anyImages
            ? [9, ImageToken, ImageToken, ImageToken, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7, 0, 0, 8, ImageToken, ImageToken, 9, 9]
            : [9, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7, 0, 0, 8, 3, 3, 9, 9];
        var features = anyImages ? Numerics.Normal(71, 5 * Hidden) : [];
        var embeds = Numerics.Normal(72, 3 * Sequence * Hidden);

        var g = new OnnxGraphBuilder();
        var e = g.AddInput("inputs_embeds", DataType.Float, ["batch", "sequence", Hidden]);
        var i = g.AddInput("input_ids", DataType.Int64, ["batch", "sequence"]);
        var f = g.AddInput("image_features", DataType.Float, ["image_tokens", Hidden]);
        g.AddOutput(g.ScatterImageFeatures(e, i, f, ImageToken, formulation), DataType.Float, ["batch", "sequence", Hidden], "merged");

        var merged = OrtTestRunner.Run(g,
        [
            OrtInput.Of("inputs_embeds", embeds, 3, Sequence, Hidden), OrtInput.Of("input_ids", ids, 3, Sequence),
            OrtInput.Of("image_features", features, features.Length / Hidden, Hidden),
        ])["merged"].Floats;

        var expected = (float[])embeds.Clone();
        var next = 0;
        for (var t = 0; t < ids.Length; t++)
        {
            if (ids[t] == ImageToken)
            {
                Array.Copy(features, next++ * Hidden, expected, t * Hidden, Hidden);
            }
        }

        Assert.Equal(expected, merged);
        output.WriteLine($"{formulation}, images: {anyImages}: bit-exact");
    }

    [Fact]
    public void ScatterND_fails_loudly_when_feature_rows_do_not_match_image_tokens()
    {
        long[] ids = [ImageToken, ImageToken, 1];
        var g = new OnnxGraphBuilder();
        var e = g.AddInput("inputs_embeds", DataType.Float, ["batch", "sequence", Hidden]);
        var i = g.AddInput("input_ids", DataType.Int64, ["batch", "sequence"]);
        var f = g.AddInput("image_features", DataType.Float, ["image_tokens", Hidden]);
        g.AddOutput(g.ScatterImageFeatures(e, i, f, ImageToken), DataType.Float, ["batch", "sequence", Hidden], "merged");

        var error = Assert.ThrowsAny<Exception>(() => OrtTestRunner.Run(g,
        [
            OrtInput.Of("inputs_embeds", new float[3 * Hidden], 1, 3, Hidden), OrtInput.Of("input_ids", ids, 1, 3),
            OrtInput.Of("image_features", new float[3 * Hidden], 3, Hidden),
        ]));
        output.WriteLine($"3 feature rows for 2 image tokens: {error.GetType().Name}: {error.Message.Split('\n')[0]}");
    }
}
