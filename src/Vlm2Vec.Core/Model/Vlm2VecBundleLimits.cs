namespace Vlm2Vec;

/// <summary>The input limits a bundle was exported with (what the preprocessing should enforce by default).</summary>
public sealed record Vlm2VecBundleLimits
{
    /// <summary>Maximum tokens per input (the model's <c>max_position_embeddings</c> unless the exporter was told less).</summary>
    public required int MaxTokens { get; init; }

    /// <summary>The image processor's <c>min_pixels</c>.</summary>
    public required long MinPixels { get; init; }

    /// <summary>The image processor's <c>max_pixels</c>.</summary>
    public required long MaxPixels { get; init; }
}
