namespace Vlm2Vec.Preprocessing;

/// <summary>
/// An upright 8-bit RGB image: <see cref="Height"/> rows of <see cref="Width"/> pixels, three bytes (R, G, B) each,
/// no padding. What <see cref="ImageDecoder"/> returns and <see cref="Qwen2VlImageProcessor"/> consumes.
/// </summary>
public sealed class DecodedImage
{
    /// <summary>Wraps packed RGB24 pixels (not copied).</summary>
    /// <exception cref="ArgumentException">The buffer length is not <c>width·height·3</c>.</exception>
    public DecodedImage(int width, int height, byte[] rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (rgb.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException($"An RGB24 image of {width}×{height} needs {(long)width * height * 3:N0} bytes; got {rgb.LongLength:N0}.", nameof(rgb));
        }

        Width = width;
        Height = height;
        Rgb = rgb;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Size in pixels.</summary>
    public ImageSize Size => new(Width, Height);

    /// <summary>Packed pixels, row-major, R G B per pixel.</summary>
    public byte[] Rgb { get; }

    /// <summary>The pixel at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public (byte R, byte G, byte B) GetPixel(int x, int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        var i = ((y * Width) + x) * 3;
        return (Rgb[i], Rgb[i + 1], Rgb[i + 2]);
    }

    /// <inheritdoc />
    public override string ToString() => $"RGB {Width}×{Height}";
}
