using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>RMSNorm (decoder) and LayerNorm (vision tower) formulations against the double-precision reference.</summary>
public sealed class NormalizationExactnessTests(ITestOutputHelper output)
{
    private const int Batch = 2;
    private const int Sequence = 5;
    private const int Hidden = 384;
    private const float Epsilon = 1e-6f;

    private static readonly float[] X = Numerics.Normal(11, Batch * Sequence * Hidden, std: 3.0);
    private static readonly float[] Residual = Numerics.Normal(12, Batch * Sequence * Hidden, std: 2.0);
    private static readonly float[] Weight = Numerics.Normal(13, Hidden, std: 0.2, mean: 1.0);
    private static readonly float[] Bias = Numerics.Normal(14, Hidden, std: 0.5);

    [Theory]
    [InlineData(nameof(RmsNormFormulation.SimplifiedLayerNormalization), 21)]
    [InlineData(nameof(RmsNormFormulation.RmsNormalization), 23)]
    [InlineData(nameof(RmsNormFormulation.OpChain), 21)]
    public void RmsNorm_matches_reference_in_float32(string formulationName, int opset)
    {
        var formulation = Enum.Parse<RmsNormFormulation>(formulationName);
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var x = g.AddInput("x", DataType.Float, ["batch", "sequence", Hidden]);
        var w = g.AddInitializer("norm.weight", Weight, [Hidden]);
        g.AddOutput(g.RmsNorm(x, w, Epsilon, formulation), DataType.Float, ["batch", "sequence", Hidden], "y");

        var y = OrtTestRunner.Run(g, [OrtInput.Of("x", X, Batch, Sequence, Hidden)])["y"];

        var error = Numerics.AssertClose(Reference.RmsNorm(X, Weight, Hidden, Epsilon), y.Floats, what: formulation.ToString());
        output.WriteLine($"RMSNorm {formulation}: max scaled error {error:E2}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SkipRmsNorm_returns_the_normalised_sum_and_the_sum(bool fused)
    {
        var g = new OnnxGraphBuilder();
        var x = g.AddInput("x", DataType.Float, ["batch", "sequence", Hidden]);
        var residual = g.AddInput("residual", DataType.Float, ["batch", "sequence", Hidden]);
        var w = g.AddInitializer("norm.weight", Weight, [Hidden]);
        var (normed, sum) = g.SkipRmsNorm(x, residual, w, Epsilon, fused);
        g.AddOutput(normed, DataType.Float, ["batch", "sequence", Hidden], "y");
        g.AddOutput(sum, DataType.Float, ["batch", "sequence", Hidden], "sum");

        var outputs = OrtTestRunner.Run(g, [OrtInput.Of("x", X, Batch, Sequence, Hidden), OrtInput.Of("residual", Residual, Batch, Sequence, Hidden)]);

        var expectedSum = Reference.AddFloat(Residual, X);
        Assert.Equal(expectedSum, outputs["sum"].Floats);
        var error = Numerics.AssertClose(Reference.RmsNorm(expectedSum, Weight, Hidden, Epsilon), outputs["y"].Floats);
        output.WriteLine($"Skip RMSNorm fused={fused}: max scaled error {error:E2}; residual sum bit-exact");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LayerNorm_with_bias_matches_reference_in_float32(bool skip)
    {
        var g = new OnnxGraphBuilder();
        var x = g.AddInput("x", DataType.Float, ["batch", "sequence", Hidden]);
        var residual = g.AddInput("residual", DataType.Float, ["batch", "sequence", Hidden]);
        var w = g.AddInitializer("norm.weight", Weight, [Hidden]);
        var b = g.AddInitializer("norm.bias", Bias, [Hidden]);
        if (skip)
        {
            var (normed, sum) = g.SkipLayerNorm(x, residual, w, b, Epsilon);
            g.AddOutput(normed, DataType.Float, ["batch", "sequence", Hidden], "y");
            g.AddOutput(sum, DataType.Float, ["batch", "sequence", Hidden], "sum");
        }
        else
        {
            g.AddOutput(g.LayerNorm(x, w, b, Epsilon), DataType.Float, ["batch", "sequence", Hidden], "y");
            g.AddOutput(g.Add(residual, x), DataType.Float, ["batch", "sequence", Hidden], "sum");
        }

        var outputs = OrtTestRunner.Run(g, [OrtInput.Of("x", X, Batch, Sequence, Hidden), OrtInput.Of("residual", Residual, Batch, Sequence, Hidden)]);

        var normalised = skip ? Reference.AddFloat(Residual, X) : X;
        var error = Numerics.AssertClose(Reference.LayerNorm(normalised, Weight, Bias, Hidden, Epsilon), outputs["y"].Floats);
        Assert.Equal(Reference.AddFloat(Residual, X), outputs["sum"].Floats);
        output.WriteLine($"LayerNorm skip={skip}: max scaled error {error:E2}");
    }
}
