namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>How attention scores are computed (both towers).</summary>
public enum Qwen2VlAttentionImplementation
{
    /// <summary>
    /// The Hugging Face "eager" path, operation for operation: <c>(q·kᵀ)·scale + mask</c>, softmax in float32, cast back to
    /// the activation dtype, then <c>·v</c>. Padded positions get the same values as the reference. The default.
    /// </summary>
    Eager,

    /// <summary>
    /// libtorch <c>scaled_dot_product_attention</c> with the same additive mask (0 / dtype minimum). Mathematically the
    /// same function; results differ from <see cref="Eager"/> only by floating-point rounding (the kernel fuses the
    /// scale and accumulates differently). Usually faster on long sequences.
    /// </summary>
    Sdpa,
}
