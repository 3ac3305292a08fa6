namespace Vlm2Vec.Preprocessing;

/// <summary>Settings of a <see cref="PromptFormatter"/>.</summary>
public sealed record PromptFormatterOptions
{
    /// <summary>
    /// The backbone's image placeholder string, as the tokenizer spells the config's <c>image_token_id</c>
    /// (<c>&lt;|image_pad|&gt;</c> for Qwen2-VL). Each image of an input is represented by one placeholder.
    /// </summary>
    public required string ImagePlaceholder { get; init; }

    /// <summary>
    /// The backbone's video placeholder (<c>&lt;|video_pad|&gt;</c> for Qwen2-VL), when known. Videos are not supported,
    /// so an input containing it is refused rather than fed to the model without video features.
    /// </summary>
    public string? VideoPlaceholder { get; init; }

    /// <summary>The layout rules (default <see cref="PromptStyle.V1"/>, the MMEB strings).</summary>
    public PromptStyle Style { get; init; } = PromptStyle.V1;
}
