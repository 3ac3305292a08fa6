using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary><c>Qwen2VLDecoderLayer</c>: pre-norm attention and MLP blocks with residual adds (spec §3.7).</summary>
internal sealed class Qwen2VlDecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    private Qwen2RmsNorm input_layernorm;
    private Qwen2VlAttention self_attn;
    private Qwen2RmsNorm post_attention_layernorm;
    private Qwen2Mlp mlp;

    public Qwen2VlDecoderLayer(Qwen2VlConfig config, ScalarType dtype, Qwen2VlAttentionImplementation implementation)
        : base(nameof(Qwen2VlDecoderLayer))
    {
        input_layernorm = new Qwen2RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        self_attn = new Qwen2VlAttention(config, dtype, implementation);
        post_attention_layernorm = new Qwen2RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        mlp = new Qwen2Mlp(config, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var attended = self_attn.call(input_layernorm.call(hiddenStates), cos, sin, attentionMask);
        var residual = hiddenStates + attended;
        var output = residual + mlp.call(post_attention_layernorm.call(residual));
        return output.MoveToOuterDisposeScope();
    }
}
