using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// The global L2 norm of the gradients, and clipping to a maximum as the HF Trainer does
/// (<c>clip_grad_norm_</c>: every gradient scaled by <c>max / (norm + 1e-6)</c> when the norm is above <c>max</c>).
/// </summary>
internal static class GradientClipping
{
    /// <summary>Clips when <paramref name="maxNorm"/> is positive; returns the norm before clipping.</summary>
    public static double ClipAndMeasure(IReadOnlyList<Parameter> parameters, double? maxNorm)
    {
        if (maxNorm is > 0)
        {
            return nn.utils.clip_grad_norm_(parameters, maxNorm.Value);
        }

        using var scope = NewDisposeScope();
        double sum = 0;
        foreach (var parameter in parameters)
        {
            if (parameter.grad is { } grad)
            {
                sum += grad.to(ScalarType.Float64).pow(2).sum().item<double>();
            }
        }

        return Math.Sqrt(sum);
    }
}
