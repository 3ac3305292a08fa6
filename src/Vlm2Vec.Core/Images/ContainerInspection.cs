namespace Vlm2Vec.Preprocessing;

/// <summary>
/// What a format's structure check found before any pixel is decoded: the declared size (checked against
/// <see cref="ImageLimits"/> first), a problem if the file is truncated or malformed, the bytes to hand to ImageSharp
/// (trimmed or repaired where needed), and the facts Pillow's conversion rules depend on.
/// </summary>
internal sealed class ContainerInspection
{
    public required ImageContainer Container { get; init; }

    /// <summary>Declared canvas width (0 when the header was not reached).</summary>
    public int Width { get; init; }

    /// <summary>Declared canvas height (0 when the header was not reached).</summary>
    public int Height { get; init; }

    /// <summary>Pixels to check against the limit; at least <c>Width·Height</c> (a GIF frame may reach past its screen).</summary>
    public long LimitPixels { get; init; }

    /// <summary>Why the file cannot be decoded, if it cannot.</summary>
    public ImageErrorKind? ProblemKind { get; init; }

    /// <summary>A sentence describing the problem.</summary>
    public string? Problem { get; init; }

    /// <summary>The bytes the ImageSharp decoder gets.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>How samples become 8-bit RGB.</summary>
    public PixelRule Rule { get; init; }

    /// <summary>EXIF orientation read by the structure check (WebP, TIFF); null lets the decoded metadata decide.</summary>
    public int? Orientation { get; init; }

    /// <summary>For an animated WebP: where the first frame sits on the canvas.</summary>
    public WebpFramePlacement? AnimatedFrame { get; init; }

    public static ContainerInspection Fail(ImageContainer container, ImageErrorKind kind, string problem, int width = 0, int height = 0) => new()
    {
        Container = container,
        ProblemKind = kind,
        Problem = problem,
        Width = width,
        Height = height,
        LimitPixels = (long)width * height,
    };
}
