namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The versions of Qwen2-VL's <c>smart_resize</c> differ only in how they treat very small sides and extreme aspect
/// ratios; for every image whose sides are ≥ 28 and whose aspect ratio is ≤ 200 they give the same size.
/// </summary>
public enum SmartResizeVariant
{
    /// <summary>
    /// VLM2Vec's vendored copy (<c>VLM2Vec@main</c>, used to train and evaluate VLM2Vec-V2.0 and to re-evaluate the V1
    /// models): an image with a side under 28 or an aspect ratio over 200 is treated as a square of side
    /// <c>max(28, h, w)</c> before rounding (the image is then stretched to that square). The default.
    /// </summary>
    Vlm2Vec,

    /// <summary>
    /// Hugging Face transformers ≈ 4.45–4.49 and VLM2Vec's <c>v1</c> vendored copy: a side under 28 or an aspect ratio
    /// over 200 is an error.
    /// </summary>
    TransformersStrict,

    /// <summary>
    /// Current Hugging Face transformers: an aspect ratio over 200 is an error; small sides are allowed, and each side
    /// is kept ≥ 28 when shrinking to the pixel budget.
    /// </summary>
    TransformersCurrent,
}
