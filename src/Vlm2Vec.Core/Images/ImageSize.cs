namespace Vlm2Vec.Preprocessing;

/// <summary>A width and a height in pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct ImageSize(int Width, int Height)
{
    /// <summary>Number of pixels, <c>Width·Height</c>.</summary>
    public long PixelCount => (long)Width * Height;

    /// <inheritdoc />
    public override string ToString() => $"{Width}×{Height}";
}
