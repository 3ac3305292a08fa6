namespace Vlm2Vec.Preprocessing;

/// <summary>The container formats the decoder recognises by their signature.</summary>
internal enum ImageContainer
{
    /// <summary>No known signature; ImageSharp is asked (TGA, PBM) before giving up.</summary>
    Other,

    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
}
