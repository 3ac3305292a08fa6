using Vlm2Vec.Preprocessing;

namespace Vlm2Vec;

/// <summary>Settings of a <see cref="Vlm2VecPreprocessor"/>.</summary>
public sealed record PreprocessorOptions
{
    /// <summary>Prompt layout (default <see cref="PromptStyle.V1"/>, the MMEB strings).</summary>
    public PromptStyle PromptStyle { get; init; } = PromptStyle.V1;

    /// <summary>
    /// Most tokens an input may have after placeholder expansion. Null (default) takes the smaller of the tokenizer's
    /// <c>model_max_length</c> and the config's <c>max_position_embeddings</c> (32,768 for Qwen2-VL).
    /// </summary>
    public int? MaxTokens { get; init; }

    /// <summary>What to do with a longer input (default: drop the end of the text with a logged warning).</summary>
    public TruncationPolicy Truncation { get; init; } = TruncationPolicy.TruncateText;

    /// <summary>Limits checked before an image is read and decoded (encoded bytes, canvas pixels).</summary>
    public ImageLimits ImageLimits { get; init; } = ImageLimits.Default;

    /// <summary>
    /// How images are fed to the Qwen2-VL image processor on top of <c>preprocessor_config.json</c>: pixel-budget
    /// overrides, VLM2Vec V1's square pre-resize, the tiny-image rule. The default keeps the config's budget; use
    /// <see cref="Qwen2VlImageProcessorOptions.Vlm2VecV2"/> for VLM2Vec-V2.0 (at most 1,280 tokens per image) or
    /// <see cref="Qwen2VlImageProcessorOptions.Vlm2VecV1"/> for the V1 Qwen2-VL models.
    /// </summary>
    public Qwen2VlImageProcessorOptions ImageProcessor { get; init; } = new();

    /// <summary>Padding side of collated batches; null (default) takes the tokenizer's <c>padding_side</c>, else left.</summary>
    public PaddingSide? Padding { get; init; }
}
