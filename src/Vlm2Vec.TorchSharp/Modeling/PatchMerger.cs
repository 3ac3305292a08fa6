using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// <c>PatchMerger</c> (<c>visual.merger</c>): LayerNorm per patch, each 2×2 block's 4 consecutive rows concatenated, then
/// <c>Linear → exact (erf) GELU → Linear</c> to the decoder width (spec §3.5 step 4).
/// </summary>
internal sealed class PatchMerger : nn.Module<Tensor, Tensor>
{
    private readonly long _mergedDim;
    private LayerNorm ln_q;
    private Sequential mlp;

    public PatchMerger(Qwen2VlVisionConfig config, ScalarType dtype)
        : base(nameof(PatchMerger))
    {
        var merge = (long)config.SpatialMergeSize * config.SpatialMergeSize;
        _mergedDim = config.EmbedDim * merge;
        ln_q = nn.LayerNorm(config.EmbedDim, eps: 1e-6, dtype: dtype);
        mlp = nn.Sequential(
            ("0", nn.Linear(_mergedDim, _mergedDim, hasBias: true, dtype: dtype)),
            ("1", nn.GELU()),
            ("2", nn.Linear(_mergedDim, config.HiddenSize, hasBias: true, dtype: dtype)));
        RegisterComponents();
    }

    /// <param name="input"><c>(P, embed)</c> in merge-block order.</param>
    /// <returns><c>(P / merge², hidden)</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return mlp.call(ln_q.call(input).view(-1, _mergedDim)).MoveToOuterDisposeScope();
    }
}
