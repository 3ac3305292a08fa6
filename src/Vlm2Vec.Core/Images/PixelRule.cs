namespace Vlm2Vec.Preprocessing;

/// <summary>How source samples become 8-bit RGB, following Pillow's <c>convert("RGB")</c> for the mode Pillow opens the file in.</summary>
internal enum PixelRule
{
    /// <summary>8-bit (or fewer bits) sources: palette looked up, grey replicated, alpha dropped (not blended).</summary>
    Rgb8,

    /// <summary>
    /// 16-bit grey without alpha: Pillow opens it as mode <c>I</c>/<c>I;16</c>, and <c>convert("RGB")</c> clips each
    /// value to 255 rather than scaling it.
    /// </summary>
    Grey16Clip,

    /// <summary>16-bit colour or grey+alpha: Pillow keeps the most significant byte of each sample (<c>RGB;16B</c> raw modes).</summary>
    Colour16HighByte,
}
