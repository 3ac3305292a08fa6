namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>How Qwen2-VL weight names are prefixed in a file.</summary>
public enum WeightNameLayout
{
    /// <summary>
    /// The layout Qwen2-VL releases ship and this library uses in memory: <c>model.layers.…</c>,
    /// <c>model.embed_tokens.weight</c>, <c>model.norm.weight</c>, <c>visual.…</c>, <c>lm_head.weight</c>. Every transformers
    /// version reads it.
    /// </summary>
    Classic,

    /// <summary>
    /// The module tree of transformers 4.52 and later: <c>model.language_model.…</c>, <c>model.visual.…</c>,
    /// <c>lm_head.weight</c>.
    /// </summary>
    Nested,
}
