using TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>Creation and initialisation of the adapter parts of a LoRA/DoRA layer, as PEFT's <c>LoraLayer.update_layer</c>.</summary>
internal static class LoraLayerParts
{
    public static (Linear A, Linear B, nn.Module<Tensor, Tensor> Dropout, int Rank, double Alpha, double Scaling) Create(
        Linear baseLayer, LoraConfig config, string moduleName, ScalarType adapterType, Generator? generator)
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        ArgumentNullException.ThrowIfNull(config);
        if (config.FanInFanOut)
        {
            throw new NotSupportedException("fan_in_fan_out adapters (GPT-2 Conv1D weights) are not supported; Linear weights are out × in.");
        }

        var rank = config.RankFor(moduleName);
        var alpha = config.AlphaFor(moduleName);
        var scaling = config.ScalingFor(moduleName);
        var weight = baseLayer.weight ?? throw new ArgumentException($"The Linear at {moduleName} has no weight.", nameof(baseLayer));
        var (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1]);
        var device = weight.device;

        var a = nn.Linear(inFeatures, rank, hasBias: false, device: device, dtype: adapterType);
        var b = nn.Linear(rank, outFeatures, hasBias: config.LoraBias, device: device, dtype: adapterType);
        using (no_grad())
        {
            switch (config.InitLoraWeights.ToLowerInvariant())
            {
                case "gaussian":
                    // PEFT: nn.init.normal_(lora_A.weight, std=1 / r); B = 0. (TorchSharp's init.normal_ ignores its
                    // generator argument, so the draw is made with randn.)
                    using (var draw = randn(a.weight!.shape, dtype: ScalarType.Float32, device: device, generator: generator))
                    {
                        a.weight!.copy_(draw.mul_(1.0 / rank));
                    }

                    b.weight!.zero_();
                    break;
                case "true":
                    // PEFT: nn.init.kaiming_uniform_(lora_A.weight, a=sqrt(5)), i.e. U(-1/√in, 1/√in); B = 0.
                    if (generator is not null)
                    {
                        Uniform(a.weight!, 1.0 / Math.Sqrt(inFeatures), generator);
                    }

                    b.weight!.zero_();
                    break;
                case "false":
                    // PEFT leaves both at nn.Linear's random init.
                    if (generator is not null)
                    {
                        Uniform(a.weight!, 1.0 / Math.Sqrt(inFeatures), generator);
                        Uniform(b.weight!, 1.0 / Math.Sqrt(rank), generator);
                    }

                    break;
                default:
                    throw new NotSupportedException(
                        $"init_lora_weights '{config.InitLoraWeights}' is not supported for new adapters; use true, false or \"gaussian\".");
            }

            b.bias?.zero_();
        }

        nn.Module<Tensor, Tensor> dropout = config.LoraDropout > 0 ? nn.Dropout(config.LoraDropout) : nn.Identity();
        foreach (var parameter in baseLayer.parameters())
        {
            parameter.requires_grad = false;
        }

        return (a, b, dropout, rank, alpha, scaling);
    }

    /// <summary>Copies the merged weight (and bias) into the base Linear, in its own type.</summary>
    public static Linear MergeInto(Linear baseLayer, Linear loraA, Linear loraB, Tensor? magnitude, double scaling)
    {
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var weight = baseLayer.weight!;
            var merged = LoraMath.MergedWeight(weight, loraA.weight!, loraB.weight!, magnitude, scaling, weight.dtype);
            weight.copy_(merged);
            if (loraB.bias is { } loraBias)
            {
                var bias = baseLayer.bias ?? throw new InvalidOperationException("A LoRA bias cannot be merged into a Linear without bias.");
                bias.copy_(LoraMath.MergedBias(bias, loraBias, scaling, bias.dtype));
            }
        }

        return baseLayer;
    }

    private static void Uniform(Tensor target, double bound, Generator generator)
    {
        using var values = rand(target.shape, dtype: ScalarType.Float32, device: target.device, generator: generator);
        target.copy_(values.mul_(2 * bound).sub_(bound));
    }
}
