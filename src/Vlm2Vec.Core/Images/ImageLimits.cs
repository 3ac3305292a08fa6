namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Limits checked before an image is decoded: the encoded size before anything is read into memory, the declared
/// canvas before any pixel buffer is allocated.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>Pillow's <c>Image.MAX_IMAGE_PIXELS</c> (1024·1024·1024 / 4 / 3 = 89 478 485): the default pixel limit.</summary>
    public const long PillowMaxImagePixels = 1024L * 1024 * 1024 / 4 / 3;

    /// <summary>The defaults: 64 MiB encoded, <see cref="PillowMaxImagePixels"/> pixels.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Largest encoded file accepted, in bytes (default 64 MiB). Checked before the bytes are read.</summary>
    public long MaxEncodedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Largest canvas accepted, in pixels (default <see cref="PillowMaxImagePixels"/>, the point where Pillow starts
    /// warning about decompression bombs). Checked from the header, before decoding.
    /// </summary>
    public long MaxPixels { get; init; } = PillowMaxImagePixels;

    /// <summary>Throws when a limit is not positive.</summary>
    public void Validate()
    {
        if (MaxEncodedBytes <= 0 || MaxPixels <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPixels), $"Image limits must be positive (MaxEncodedBytes {MaxEncodedBytes}, MaxPixels {MaxPixels}).");
        }
    }
}
