using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>How <see cref="Qwen2VlForConditionalGeneration.FromPretrained"/> builds the model (CPU; TorchSharp-cpu).</summary>
public sealed class Qwen2VlLoadOptions
{
    /// <summary>Parameter and activation dtype: <see cref="ScalarType.Float32"/> (default) or <see cref="ScalarType.BFloat16"/>.
    /// Checkpoint tensors are converted on load. There is no autocast: the whole model runs in this dtype, with float32
    /// where the reference uses it (RMSNorm statistics, rotary tables, softmax).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>A PEFT adapter folder (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c> or <c>.bin</c>), LoRA or
    /// DoRA, applied on top of the base checkpoint; null for none.</summary>
    public string? AdapterPath { get; init; }

    /// <summary>Merge the adapter into the base weights while loading (default; what VLM2Vec does for evaluation). False
    /// wraps the targeted projections in LoRA/DoRA modules holding the adapter (to keep training it, or to run it unmerged).</summary>
    public bool MergeAdapter { get; init; } = true;

    /// <summary>Build the language-model head (<c>lm_head</c>, tied to the embeddings when the config says so). Embedding
    /// does not need it; when false a checkpoint's <c>lm_head.weight</c> is skipped.</summary>
    public bool IncludeLanguageModelHead { get; init; }

    /// <summary>Attention kernel; <see cref="Qwen2VlAttentionImplementation.Eager"/> matches the reference on every position.</summary>
    public Qwen2VlAttentionImplementation AttentionImplementation { get; init; } = Qwen2VlAttentionImplementation.Eager;
}
