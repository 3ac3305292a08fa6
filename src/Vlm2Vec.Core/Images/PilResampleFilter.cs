namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Pillow's resampling filters with Pillow's numeric values (the <c>resample</c> key of <c>preprocessor_config.json</c>).
/// <c>NEAREST</c> (0) is a different algorithm in Pillow and is not offered.
/// </summary>
public enum PilResampleFilter
{
    /// <summary>Windowed sinc, support 3 (<c>Image.LANCZOS</c> = 1).</summary>
    Lanczos = 1,

    /// <summary>Triangle filter, support 1 (<c>Image.BILINEAR</c> = 2).</summary>
    Bilinear = 2,

    /// <summary>Keys cubic with a = −0.5, support 2 (<c>Image.BICUBIC</c> = 3): what Qwen2-VL uses.</summary>
    Bicubic = 3,

    /// <summary>Box filter, support 0.5 (<c>Image.BOX</c> = 4).</summary>
    Box = 4,

    /// <summary>Hamming-windowed sinc, support 1 (<c>Image.HAMMING</c> = 5).</summary>
    Hamming = 5,
}
