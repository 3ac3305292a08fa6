namespace Vlm2Vec;

/// <summary>
/// The graph interface of bundle format version 1 (docs/architecture.md, "The model bundle"). All inputs are int64 or
/// float32 and all outputs float32, whatever dtype the weights are stored in, so an encoder never converts on the host.
/// </summary>
public static class Vlm2VecBundleTensorNames
{
    /// <summary>Vision input: float32 <c>(images, patches, patch_row)</c>, the patch rows of same-size images (one
    /// temporal slice per entry), in the Qwen2-VL image processor's order.</summary>
    public const string PixelValues = "pixel_values";

    /// <summary>Vision input: int64 <c>(patches, 2)</c>, the (row, column) of each patch for the 2-D rotary embedding,
    /// in merge-block order (the same for every image of the run).</summary>
    public const string RotaryPositionIds = "rotary_pos_ids";

    /// <summary>Vision output and text input: float32 <c>(images, patches / merge², hidden)</c> from the vision graph;
    /// <c>(image_tokens, hidden)</c> into the text graph, the features of every image in batch order.</summary>
    public const string ImageEmbeds = "image_embeds";

    /// <summary>Text input: int64 <c>(batch, sequence)</c> token ids.</summary>
    public const string InputIds = "input_ids";

    /// <summary>Text input: int64 <c>(batch, sequence)</c>, 1 on real tokens, 0 on padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>Text input: int64 <c>(3, batch, sequence)</c> M-RoPE position ids (t, h, w streams).</summary>
    public const string PositionIds = "position_ids";

    /// <summary>Text input: int64 <c>(batch, sequence)</c>, 1 where an image feature replaces the token embedding.</summary>
    public const string ImageTokenMask = "image_token_mask";

    /// <summary>Text output: float32 <c>(batch, hidden)</c>, the pooled (last-token), L2-normalised embeddings.</summary>
    public const string Embeddings = "embeddings";

    /// <summary>Optional text output (bundles exported for diagnostics only): float32 <c>(batch, sequence, hidden)</c>,
    /// the final-norm hidden states at every position.</summary>
    public const string LastHiddenState = "last_hidden_state";
}
