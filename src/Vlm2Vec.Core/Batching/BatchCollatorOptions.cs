namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The special-token ids and geometry a <see cref="BatchCollator"/> needs. They come from the model's
/// <c>config.json</c> and tokenizer (<see cref="FromConfig"/>), never from constants.
/// </summary>
public sealed record BatchCollatorOptions
{
    /// <summary>The id padding is filled with (the tokenizer's pad token; <c>&lt;|endoftext|&gt;</c> 151643 for Qwen2-VL).</summary>
    public required int PadTokenId { get; init; }

    /// <summary>The image placeholder id (<c>image_token_id</c>).</summary>
    public required int ImageTokenId { get; init; }

    /// <summary>The video placeholder id (<c>video_token_id</c>).</summary>
    public required int VideoTokenId { get; init; }

    /// <summary>The vision-start marker id (<c>vision_start_token_id</c>); it switches a row to M-RoPE positions.</summary>
    public required int VisionStartTokenId { get; init; }

    /// <summary>Patches merged per side by the vision merger (<c>vision_config.spatial_merge_size</c>, 2 for Qwen2-VL).</summary>
    public int SpatialMergeSize { get; init; } = 2;

    /// <summary>Padding side (left, as VLM2Vec pads Qwen2-VL batches).</summary>
    public PaddingSide Padding { get; init; } = PaddingSide.Left;

    /// <summary>Options from a model config and the tokenizer's pad id.</summary>
    public static BatchCollatorOptions FromConfig(Qwen2VlConfig config, int padTokenId, PaddingSide padding = PaddingSide.Left)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new BatchCollatorOptions
        {
            PadTokenId = padTokenId,
            ImageTokenId = config.ImageTokenId,
            VideoTokenId = config.VideoTokenId,
            VisionStartTokenId = config.VisionStartTokenId,
            SpatialMergeSize = config.Vision.SpatialMergeSize,
            Padding = padding,
        };
    }
}
