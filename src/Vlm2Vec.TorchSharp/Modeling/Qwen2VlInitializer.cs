using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// Random initialisation like the reference's <c>Qwen2VLPreTrainedModel._init_weights</c>: normal(0, std) for Linear,
/// Conv3d and Embedding weights (the padding row zeroed), zero biases, LayerNorm (1, 0), RMSNorm 1. Values are drawn in
/// float32 from one seeded generator in module order, then copied into the parameters' dtype.
/// </summary>
internal static class Qwen2VlInitializer
{
    public static void Initialize(nn.Module root, long seed, double std, int? paddingIndex)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(unchecked((ulong)seed));
        foreach (var (_, module) in root.named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    Normal(linear.weight!, std, generator);
                    Zero(linear.bias);
                    break;
                case Conv3d conv:
                    Normal(conv.weight!, std, generator);
                    Zero(conv.bias);
                    break;
                case Embedding embedding:
                    Normal(embedding.weight!, std, generator);
                    if (paddingIndex is { } pad && pad >= 0 && pad < embedding.weight!.shape[0])
                    {
                        embedding.weight![pad].zero_();
                    }

                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1.0);
                    Zero(norm.bias);
                    break;
                case Qwen2RmsNorm:
                    foreach (var p in module.parameters(recurse: false))
                    {
                        p.fill_(1.0);
                    }

                    break;
            }
        }
    }

    private static void Normal(Tensor weight, double std, Generator generator)
    {
        var values = empty(weight.shape, dtype: ScalarType.Float32).normal_(0.0, std, generator);
        weight.copy_(values);
    }

    private static void Zero(Tensor? bias) => bias?.zero_();
}
