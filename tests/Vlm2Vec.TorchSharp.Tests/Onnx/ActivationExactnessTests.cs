using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>QuickGELU (ViT MLP), exact GELU (merger MLP) and SwiGLU (decoder MLP) against double precision.</summary>
public sealed class ActivationExactnessTests(ITestOutputHelper output)
{
    private const int Count = 4096;

    /// <summary>Wide range, including the tails where sigmoid/erf saturate.</summary>
    private static readonly float[] X = Numerics.Normal(51, Count, std: 4.0);
    private static readonly float[] Up = Numerics.Normal(52, Count, std: 2.0);

    [Theory]
    [InlineData(nameof(ActivationFormulation.Fused))]
    [InlineData(nameof(ActivationFormulation.OpChain))]
    public void QuickGelu_matches_reference(string formulationName)
    {
        var formulation = Enum.Parse<ActivationFormulation>(formulationName);
        var y = Run(g => g.QuickGelu("x", formulation));
        var error = Numerics.AssertClose(X.Select(v => Reference.QuickGelu(v)).ToArray(), y, what: $"QuickGelu {formulation}");
        output.WriteLine($"QuickGELU {formulation}: max scaled error {error:E2}");
    }

    [Theory]
    [InlineData(nameof(ActivationFormulation.Fused), 21)]
    [InlineData(nameof(ActivationFormulation.Fused), 19)]
    [InlineData(nameof(ActivationFormulation.OpChain), 21)]
    public void Exact_gelu_matches_reference(string formulationName, int opset)
    {
        var formulation = Enum.Parse<ActivationFormulation>(formulationName);
        var y = Run(g => g.Gelu("x", formulation), opset);
        var error = Numerics.AssertClose(X.Select(v => Reference.Gelu(v)).ToArray(), y, what: $"Gelu {formulation}");
        var op = formulation == ActivationFormulation.OpChain ? "Mul/Erf chain" : opset >= 20 ? "ai.onnx Gelu" : "com.microsoft Gelu";
        output.WriteLine($"GELU {op}: max scaled error {error:E2}");
    }

    [Theory]
    [InlineData(nameof(ActivationFormulation.Fused))]
    [InlineData(nameof(ActivationFormulation.OpChain))]
    public void SwiGlu_matches_reference(string formulationName)
    {
        var formulation = Enum.Parse<ActivationFormulation>(formulationName);
        var y = Run(g => g.SwiGlu("x", "up", formulation));
        var expected = X.Select((v, i) => Reference.QuickGelu(v, alpha: 1.0) * Up[i]).ToArray();
        var error = Numerics.AssertClose(expected, y, what: $"SwiGLU {formulation}");
        output.WriteLine($"SwiGLU {formulation}: max scaled error {error:E2}");
    }

    [Fact]
    public void Reference_erf_is_accurate()
    {
        Assert.Equal(0.5204998778130465, Reference.Erf(0.5), 14);
        Assert.Equal(0.8427007929497149, Reference.Erf(1.0), 14);
        Assert.Equal(0.9999779095030014, Reference.Erf(3.0), 14);
        Assert.Equal(-0.9953222650189527, Reference.Erf(-2.0), 14);
    }

    private static float[] Run(Func<OnnxGraphBuilder, string> build, int opset = 21)
    {
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        g.AddInput("x", DataType.Float, ["n"]);
        g.AddInput("up", DataType.Float, ["n"]);
        g.AddOutput(build(g), DataType.Float, ["n"], "y");
        return OrtTestRunner.Run(g, [OrtInput.Of("x", X, Count), OrtInput.Of("up", Up, Count)])["y"].Floats;
    }
}
