namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Qwen2-VL's <c>smart_resize</c>: the size an image is resized to so that both sides are multiples of
/// <c>factor = patch_size·merge_size</c> (28), the pixel count lies in [min_pixels, max_pixels], and the aspect ratio
/// is kept as closely as possible (spec §3.3). Python's arithmetic is reproduced exactly: true division in double
/// precision, <c>round</c> with ties to even, <c>floor</c>/<c>ceil</c>, and <c>math.sqrt</c>.
/// </summary>
internal static class SmartResize
{
    /// <summary>The largest aspect ratio every variant accepts.</summary>
    public const double MaxAspectRatio = 200;

    /// <summary>Computes the resized size for an image of <paramref name="height"/>×<paramref name="width"/> (rows × columns).</summary>
    /// <exception cref="InvalidInputException">The variant refuses the image (too small or too elongated), or the budget leaves a side of 0.</exception>
    public static ImageSize Compute(int height, int width, int factor, long minPixels, long maxPixels, SmartResizeVariant variant)
    {
        if (height <= 0 || width <= 0)
        {
            throw new InvalidInputException($"Image size {width}×{height} is not valid: both sides must be at least 1 pixel.");
        }

        var ratio = (double)Math.Max(height, width) / Math.Min(height, width);
        switch (variant)
        {
            case SmartResizeVariant.Vlm2Vec:
                if (height < factor || width < factor || ratio > MaxAspectRatio)
                {
                    // VLM2Vec's vendored processor turns such images into a square before rounding.
                    height = width = Math.Max(factor, Math.Max(height, width));
                }

                break;
            case SmartResizeVariant.TransformersStrict:
                if (height < factor || width < factor)
                {
                    throw new InvalidInputException(
                        $"Image {width}×{height} has a side under {factor} pixels, which this smart_resize variant (TransformersStrict) refuses; " +
                        "use the Vlm2Vec variant or the tiny-image rule to accept small images.");
                }

                ThrowIfTooElongated(height, width, ratio, variant);
                break;
            case SmartResizeVariant.TransformersCurrent:
                ThrowIfTooElongated(height, width, ratio, variant);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown smart_resize variant.");
        }

        long hBar = RoundHalfToEven((double)height / factor) * factor;
        long wBar = RoundHalfToEven((double)width / factor) * factor;
        if (hBar * wBar > maxPixels)
        {
            var beta = Math.Sqrt((double)((long)height * width) / maxPixels);
            hBar = (long)Math.Floor(height / beta / factor) * factor;
            wBar = (long)Math.Floor(width / beta / factor) * factor;
            if (variant == SmartResizeVariant.TransformersCurrent)
            {
                hBar = Math.Max(factor, hBar);
                wBar = Math.Max(factor, wBar);
            }
        }
        else if (hBar * wBar < minPixels)
        {
            var beta = Math.Sqrt(minPixels / (double)((long)height * width));
            hBar = (long)Math.Ceiling(height * beta / factor) * factor;
            wBar = (long)Math.Ceiling(width * beta / factor) * factor;
        }

        if (hBar <= 0 || wBar <= 0 || hBar > int.MaxValue || wBar > int.MaxValue)
        {
            throw new InvalidInputException(
                $"Image {width}×{height} cannot be fitted into {minPixels:N0}–{maxPixels:N0} pixels with sides that are multiples of {factor} " +
                $"(smart_resize gives {wBar}×{hBar}); the aspect ratio {ratio:0.#} is too extreme for this pixel budget.");
        }

        return new ImageSize((int)wBar, (int)hBar);
    }

    private static long RoundHalfToEven(double value) => (long)Math.Round(value, MidpointRounding.ToEven);

    private static void ThrowIfTooElongated(int height, int width, double ratio, SmartResizeVariant variant)
    {
        if (ratio > MaxAspectRatio)
        {
            throw new InvalidInputException(
                $"Image {width}×{height} has an aspect ratio of {ratio:0.#}; the {variant} smart_resize variant allows at most {MaxAspectRatio}.");
        }
    }
}
