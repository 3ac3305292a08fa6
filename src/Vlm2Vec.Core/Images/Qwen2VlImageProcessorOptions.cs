namespace Vlm2Vec.Preprocessing;

/// <summary>
/// How VLM2Vec feeds images to the Qwen2-VL image processor, on top of <see cref="ImageProcessorConfig"/> (spec §4.3).
/// The defaults (<c>new()</c>) are VLM2Vec's behaviour with the pixel budget taken from the config; use a preset for a
/// specific released model.
/// </summary>
public sealed record Qwen2VlImageProcessorOptions
{
    /// <summary>The side (28 px) under which the tiny-image rule applies.</summary>
    public const int TinySideThreshold = 28;

    /// <summary>The square side (56 px) the tiny-image rule resizes to.</summary>
    public const int TinyImageSide = 56;

    /// <summary>
    /// VLM2Vec-V2.0 training and evaluation (<c>VLM2Vec@main</c>): pixel budget 3 136–1 003 520 (at most 1 280 image
    /// tokens), the tiny-image rule, VLM2Vec's <c>smart_resize</c>. A 1344×1344 image becomes 980×980.
    /// </summary>
    public static Qwen2VlImageProcessorOptions Vlm2VecV2 { get; } = new()
    {
        MinPixels = 56 * 56,
        MaxPixels = 28 * 28 * 1280,
    };

    /// <summary>
    /// The V1 Qwen2-VL models (VLM2Vec-Qwen2VL-2B/7B) as evaluated on the <c>v1</c> branch: every image is first resized
    /// to a 1344×1344 square (<c>--image_resolution high</c>), and the pixel budget is the model's own
    /// <c>preprocessor_config.json</c> (12 845 056 for Qwen2-VL, so 1344² is kept: 2 304 tokens).
    /// </summary>
    public static Qwen2VlImageProcessorOptions Vlm2VecV1 { get; } = new()
    {
        SquarePreResize = 1344,
        TinyImageRule = false,
    };

    /// <summary>
    /// The V1 models re-evaluated with the V2 code (<c>eval_vlm2vecv1_8gpu.sh</c>): 1344×1344 square first, then the V2
    /// budget (3 136–1 003 520, so 980×980, 1 225 tokens) and the tiny-image rule.
    /// </summary>
    public static Qwen2VlImageProcessorOptions Vlm2VecV1InV2 { get; } = new()
    {
        SquarePreResize = 1344,
        MinPixels = 56 * 56,
        MaxPixels = 28 * 28 * 1280,
    };

    /// <summary>
    /// Plain current Hugging Face behaviour: the config's budget, no tiny-image rule, transformers' current
    /// <c>smart_resize</c> (errors above an aspect ratio of 200).
    /// </summary>
    public static Qwen2VlImageProcessorOptions HuggingFace { get; } = new()
    {
        TinyImageRule = false,
        SmartResizeVariant = SmartResizeVariant.TransformersCurrent,
    };

    /// <summary>Overrides the config's <c>min_pixels</c> (VLM2Vec's <c>size.shortest_edge</c>); null keeps the config's value.</summary>
    public long? MinPixels { get; init; }

    /// <summary>Overrides the config's <c>max_pixels</c> (VLM2Vec's <c>size.longest_edge</c>); null keeps the config's value.</summary>
    public long? MaxPixels { get; init; }

    /// <summary>
    /// When set, every image is first resized to this square with Pillow bicubic, ignoring its aspect ratio (VLM2Vec V1's
    /// <c>image.resize((1344, 1344))</c>). Null (default) for none.
    /// </summary>
    /// <remarks>
    /// V1 resized the image as Pillow opened it, before any RGB conversion; for palette or 1-bit files Pillow's default
    /// filter there is nearest-neighbour, while this option always resizes the decoded RGB image with bicubic. Photos
    /// (RGB, grey JPEG) are unaffected.
    /// </remarks>
    public int? SquarePreResize { get; init; }

    /// <summary>
    /// VLM2Vec's rule for tiny images (<c>Qwen2_VL_process_fn</c>): an image with a side under 28 pixels is first resized
    /// to 56×56 with Pillow bicubic. Default true.
    /// </summary>
    public bool TinyImageRule { get; init; } = true;

    /// <summary>Which <c>smart_resize</c> to use; default <see cref="SmartResizeVariant.Vlm2Vec"/> (the released models' code).</summary>
    public SmartResizeVariant SmartResizeVariant { get; init; } = SmartResizeVariant.Vlm2Vec;
}
