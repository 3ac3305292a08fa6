using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary><c>Qwen2VLVisionBlock</c>: pre-norm (LayerNorm, eps 1e-6) attention and MLP with residual adds.</summary>
internal sealed class Qwen2VlVisionBlock : nn.Module<Tensor, Tensor, Tensor, long[], Tensor>
{
    private LayerNorm norm1;
    private LayerNorm norm2;
    private VisionAttention attn;
    private VisionMlp mlp;

    public Qwen2VlVisionBlock(Qwen2VlVisionConfig config, ScalarType dtype, Qwen2VlAttentionImplementation implementation)
        : base(nameof(Qwen2VlVisionBlock))
    {
        norm1 = nn.LayerNorm(config.EmbedDim, eps: 1e-6, dtype: dtype);
        norm2 = nn.LayerNorm(config.EmbedDim, eps: 1e-6, dtype: dtype);
        attn = new VisionAttention(config, dtype, implementation);
        mlp = new VisionMlp(config, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates, Tensor cos, Tensor sin, long[] segmentLengths)
    {
        using var scope = NewDisposeScope();
        var attended = hiddenStates + attn.call(norm1.call(hiddenStates), cos, sin, segmentLengths);
        return (attended + mlp.call(norm2.call(attended))).MoveToOuterDisposeScope();
    }
}
