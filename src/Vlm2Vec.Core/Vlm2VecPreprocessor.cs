using Vlm2Vec.Preprocessing;

namespace Vlm2Vec;

/// <summary>
/// The preprocessing every input takes before an encoder: prompt formatting, image decoding and the Qwen2-VL image
/// processor, tokenisation with placeholder expansion, and collation. Training and serving share it, so a model never
/// sees different preprocessing at train and serve time.
/// </summary>
/// <remarks>Placeholder: the foundation issue fills this in (see docs/architecture.md, "The one path every input takes").</remarks>
public sealed class Vlm2VecPreprocessor
{
    /// <summary>The model config the special-token ids come from.</summary>
    public required Qwen2VlConfig Config { get; init; }
}
