namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Applies an EXIF orientation to packed RGB24 pixels the way Pillow's <c>ImageOps.exif_transpose</c> does
/// (2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise;
/// any other value leaves the image as it is).
/// </summary>
internal static class ExifOrientation
{
    /// <summary>Whether <paramref name="orientation"/> changes the image.</summary>
    public static bool Transforms(int orientation) => orientation is >= 2 and <= 8;

    /// <summary>Whether <paramref name="orientation"/> swaps width and height.</summary>
    public static bool SwapsAxes(int orientation) => orientation is >= 5 and <= 8;

    /// <summary>Writes the upright image into <paramref name="dst"/> (same length as <paramref name="src"/>).</summary>
    public static void Apply(ReadOnlySpan<byte> src, int width, int height, int orientation, Span<byte> dst)
    {
        var outWidth = SwapsAxes(orientation) ? height : width;
        var outHeight = SwapsAxes(orientation) ? width : height;
        for (var y = 0; y < outHeight; y++)
        {
            var dstRow = dst.Slice(y * outWidth * 3, outWidth * 3);
            for (var x = 0; x < outWidth; x++)
            {
                // The source pixel shown at (x, y) of the upright image.
                var (sx, sy) = orientation switch
                {
                    2 => (width - 1 - x, y),
                    3 => (width - 1 - x, height - 1 - y),
                    4 => (x, height - 1 - y),
                    5 => (y, x),
                    6 => (y, height - 1 - x),
                    7 => (width - 1 - y, height - 1 - x),
                    8 => (width - 1 - y, x),
                    _ => (x, y),
                };
                var s = ((sy * width) + sx) * 3;
                dstRow[x * 3] = src[s];
                dstRow[(x * 3) + 1] = src[s + 1];
                dstRow[(x * 3) + 2] = src[s + 2];
            }
        }
    }
}
