namespace Vlm2Vec;

/// <summary>
/// The vision-tower settings of a Qwen2-VL <c>config.json</c> (<c>vision_config</c>). Values a file omits take the
/// Hugging Face class defaults (spec §3.1): many released configs list only a few keys.
/// </summary>
public sealed record Qwen2VlVisionConfig
{
    /// <summary>Number of ViT blocks (<c>depth</c>, default 32).</summary>
    public int Depth { get; init; } = 32;

    /// <summary>ViT width (<c>embed_dim</c>, default 1280).</summary>
    public int EmbedDim { get; init; } = 1280;

    /// <summary>Output width of the patch merger = the language model's hidden size (<c>hidden_size</c>, default 3584).</summary>
    public int HiddenSize { get; init; } = 3584;

    /// <summary>Attention heads (<c>num_heads</c>, default 16).</summary>
    public int NumHeads { get; init; } = 16;

    /// <summary>MLP width ratio (<c>mlp_ratio</c>, default 4).</summary>
    public double MlpRatio { get; init; } = 4;

    /// <summary>Activation of the ViT MLP (<c>hidden_act</c>, default <c>quick_gelu</c>).</summary>
    public string HiddenAct { get; init; } = "quick_gelu";

    /// <summary>Image channels (<c>in_channels</c> or <c>in_chans</c>, default 3).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Spatial patch size (<c>patch_size</c> or <c>spatial_patch_size</c>, default 14).</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary>Patches merged per side by the merger (<c>spatial_merge_size</c>, default 2).</summary>
    public int SpatialMergeSize { get; init; } = 2;

    /// <summary>Frames per temporal patch (<c>temporal_patch_size</c>, default 2).</summary>
    public int TemporalPatchSize { get; init; } = 2;

    /// <summary>Head dimension (<see cref="EmbedDim"/> / <see cref="NumHeads"/>).</summary>
    public int HeadDim => EmbedDim / NumHeads;

    /// <summary>MLP hidden width (<see cref="EmbedDim"/> × <see cref="MlpRatio"/>).</summary>
    public int MlpHiddenDim => (int)(EmbedDim * MlpRatio);

    /// <summary>Length of one flattened patch row: channels × temporal × patch².</summary>
    public int PatchRowLength => InChannels * TemporalPatchSize * PatchSize * PatchSize;
}
