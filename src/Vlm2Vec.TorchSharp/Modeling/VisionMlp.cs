using global::TorchSharp;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary><c>VisionMlp</c>: <c>fc2(act(fc1(x)))</c> with biases; the activation is <c>vision_config.hidden_act</c> (QuickGELU for Qwen2-VL).</summary>
internal sealed class VisionMlp : nn.Module<Tensor, Tensor>
{
    private readonly Func<Tensor, Tensor> _activation;
    private nn.Module<Tensor, Tensor> fc1;
    private nn.Module<Tensor, Tensor> fc2;

    public VisionMlp(Qwen2VlVisionConfig config, ScalarType dtype)
        : base(nameof(VisionMlp))
    {
        _activation = Activation(config.HiddenAct);
        fc1 = nn.Linear(config.EmbedDim, config.MlpHiddenDim, hasBias: true, dtype: dtype);
        fc2 = nn.Linear(config.MlpHiddenDim, config.EmbedDim, hasBias: true, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return fc2.call(_activation(fc1.call(input))).MoveToOuterDisposeScope();
    }

    /// <summary>The reference <c>ACT2FN</c> entries a Qwen2-VL vision config can name.</summary>
    internal static Func<Tensor, Tensor> Activation(string name) => name switch
    {
        // QuickGELUActivation: x · sigmoid(1.702 · x).
        "quick_gelu" => QuickGelu,
        "gelu" => x => nn.functional.gelu(x),
        "gelu_pytorch_tanh" => x => nn.functional.gelu(x, global::TorchSharp.Modules.GELU.Approximate.tanh),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new ModelFormatException(
            $"vision_config.hidden_act '{name}' is not supported; supported: quick_gelu, gelu, gelu_pytorch_tanh, silu."),
    };

    private static Tensor QuickGelu(Tensor x)
    {
        using Scalar alpha = 1.702;
        return x * nn.functional.sigmoid(x * alpha);
    }
}
