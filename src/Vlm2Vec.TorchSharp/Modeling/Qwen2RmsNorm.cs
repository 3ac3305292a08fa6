using global::TorchSharp.Modules;
using global::TorchSharp;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// <c>Qwen2RMSNorm</c>: <c>weight ⊙ (x / sqrt(mean(x²) + eps))</c> with the statistics in float32 and the normalised value
/// cast back to the activation dtype before the multiplication (spec §3.7).
/// </summary>
internal sealed class Qwen2RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly double _eps;
    private Parameter weight;

    public Qwen2RmsNorm(long hiddenSize, double eps, ScalarType dtype)
        : base(nameof(Qwen2RmsNorm))
    {
        _eps = eps;
        weight = new Parameter(ones(hiddenSize, dtype: dtype));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var inputDtype = input.dtype;
        var hidden = input.to(ScalarType.Float32);
        using Scalar eps = _eps;
        var variance = hidden.square().mean([-1L], keepdim: true);
        hidden = hidden * rsqrt(variance + eps);
        return (weight * hidden.to(inputDtype)).MoveToOuterDisposeScope();
    }
}
