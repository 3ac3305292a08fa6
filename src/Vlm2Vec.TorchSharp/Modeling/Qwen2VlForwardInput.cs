using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// The inputs of <see cref="Qwen2VlForConditionalGeneration.forward(Qwen2VlForwardInput)"/>, in the reference model's
/// terms. The caller owns every tensor.
/// </summary>
public sealed class Qwen2VlForwardInput
{
    /// <summary>Token ids <c>(B, L)</c>, int64.</summary>
    public required Tensor InputIds { get; init; }

    /// <summary>1 on real tokens, 0 on padding <c>(B, L)</c>; null means no padding.</summary>
    public Tensor? AttentionMask { get; init; }

    /// <summary>Image patches <c>(P, C·T·patch²)</c> (1176 columns for Qwen2-VL) of every image of the batch, in order; null for a text-only batch.</summary>
    public Tensor? PixelValues { get; init; }

    /// <summary>Image grids <c>(N, 3)</c> as (t, h, w) in patches, int64; required with <see cref="PixelValues"/>.</summary>
    public Tensor? ImageGridThw { get; init; }

    /// <summary>
    /// Rotary position ids <c>(3, B, L)</c> (or <c>(B, L)</c>, used for all three streams). When null they are computed like
    /// Hugging Face <c>get_rope_index</c> from the ids, the mask and the grids.
    /// </summary>
    public Tensor? PositionIds { get; init; }

    /// <summary>
    /// Where image features replace token embeddings <c>(B, L)</c> (non-zero = image token). When null:
    /// <c>InputIds == image_token_id</c>. Features are scattered in reading order over the batch.
    /// </summary>
    public Tensor? ImageTokenMask { get; init; }

    /// <summary>
    /// The vision tower's output for <see cref="PixelValues"/>, computed earlier (<c>(image tokens, hidden)</c>): the tower
    /// is skipped and <see cref="PixelValues"/> may be null (<see cref="ImageGridThw"/> is still required). Training uses it
    /// when the tower is frozen, so that GradCache's second pass neither prepares the images again nor runs the tower.
    /// </summary>
    internal Tensor? ImageFeatures { get; init; }

    /// <summary>Whether to return every layer's hidden states (the reference's <c>hidden_states</c> tuple).</summary>
    public bool OutputHiddenStates { get; init; }
}
