using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Turns encoded images (JPEG, PNG, GIF, WebP, BMP, TIFF; TGA and PBM through ImageSharp) into upright 8-bit RGB the way
/// VLM2Vec's Python side sees them: Pillow's <c>ImageOps.exif_transpose</c> then <c>convert("RGB")</c>, first frame of
/// an animation. Limits are checked from the headers before any pixel buffer is allocated, and a truncated or malformed
/// file always ends in an <see cref="ImageDecodeException"/> naming the image and the problem.
/// </summary>
/// <remarks>
/// <para>Conversion rules (Pillow's): alpha is dropped, not blended; palette entries are looked up (a transparent index
/// keeps its palette colour); 16-bit grey is clipped to 255 (Pillow's mode <c>I</c>/<c>I;16</c>), other 16-bit samples
/// keep their high byte; CMYK is converted by the JPEG decoder.</para>
/// <para>JPEG pixels differ from Pillow's (libjpeg-turbo) by IDCT rounding and chroma up-sampling: a mean absolute
/// difference around 1–2 levels on 4:2:0 files, larger only at sharp colour edges. Every other format matches exactly.</para>
/// <para>Known differences from Pillow: a GIF whose first frame reaches past its logical screen is clipped to the screen
/// (Pillow grows the canvas; the pixel limit is checked against Pillow's canvas); a PNG whose last chunk is cut short
/// is refused as truncated, as Pillow refuses it, even when its image data happens to be complete.</para>
/// <para>Decoding runs on the calling thread (ImageSharp's internal parallelism is off): callers parallelise across
/// images.</para>
/// </remarks>
public static class ImageDecoder
{
    private static readonly Configuration SharedConfiguration = CreateConfiguration();
    private static readonly JpegDecoder Jpeg = new();
    private static readonly PngDecoder Png = new();
    private static readonly GifDecoder Gif = new() { DecodingMode = FrameDecodingMode.First };
    private static readonly WebpDecoder Webp = new();
    private static readonly BmpDecoder Bmp = new();
    private static readonly TiffDecoder Tiff = new() { DecodingMode = FrameDecodingMode.First };

    private static ReadOnlySpan<byte> JpegSignature => [0xFF, 0xD8, 0xFF];

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads and decodes an image input.</summary>
    /// <exception cref="ImageDecodeException">The image is empty, too large, unreadable, truncated, corrupt or unsupported.</exception>
    public static DecodedImage Decode(ImageInput input, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        limits ??= ImageLimits.Default;
        limits.Validate();
        var bytes = input.ReadEncodedBytes(limits.MaxEncodedBytes);
        return Decode(bytes, input.Name, limits);
    }

    /// <summary>Decodes encoded image bytes; <paramref name="name"/> is used in error messages.</summary>
    /// <exception cref="ImageDecodeException">The image is empty, too large, truncated, corrupt or unsupported.</exception>
    public static DecodedImage Decode(ReadOnlyMemory<byte> encoded, string? name = null, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        limits.Validate();
        var label = name is null ? "(unnamed)" : $"'{name}'";
        if (encoded.IsEmpty)
        {
            throw new ImageDecodeException(ImageErrorKind.Empty, name, $"Image {label} is empty (0 bytes).");
        }

        if (encoded.Length > limits.MaxEncodedBytes)
        {
            throw new ImageDecodeException(
                ImageErrorKind.TooManyBytes,
                name,
                $"Image {label} is {encoded.Length:N0} bytes; the limit is {limits.MaxEncodedBytes:N0} bytes (ImageLimits.MaxEncodedBytes).");
        }

        var inspection = Inspect(encoded, name, label);
        if (inspection.LimitPixels > limits.MaxPixels)
        {
            throw new ImageDecodeException(
                ImageErrorKind.TooManyPixels,
                name,
                $"Image {label} declares a {inspection.Width:N0}×{inspection.Height:N0} canvas ({inspection.LimitPixels:N0} pixels); " +
                $"the limit is {limits.MaxPixels:N0} pixels (ImageLimits.MaxPixels). It was refused before decoding.");
        }

        if (inspection.ProblemKind is { } kind)
        {
            throw new ImageDecodeException(kind, name, $"Image {label} {inspection.Problem}.");
        }

        return DecodePixels(inspection, name, label);
    }

    /// <summary>The container, its declared size and any structural problem, from signatures and headers only.</summary>
    private static ContainerInspection Inspect(ReadOnlyMemory<byte> encoded, string? name, string label)
    {
        var span = encoded.Span;
        try
        {
            if (span.StartsWith(JpegSignature))
            {
                return JpegInspector.Inspect(encoded);
            }

            if (span.StartsWith(PngSignature))
            {
                return PngInspector.Inspect(encoded);
            }

            if (span.StartsWith("GIF87a"u8) || span.StartsWith("GIF89a"u8))
            {
                return GifInspector.Inspect(encoded);
            }

            if (span.Length >= 12 && span.StartsWith("RIFF"u8) && span[8..12].SequenceEqual("WEBP"u8))
            {
                return WebpInspector.Inspect(encoded);
            }

            if (span.StartsWith("BM"u8))
            {
                return BmpInspector.Inspect(encoded);
            }

            if (span.StartsWith("II"u8) || span.StartsWith("MM"u8))
            {
                var magic = span.Length >= 4 ? (span[0] == 'I' ? span[2] | (span[3] << 8) : (span[2] << 8) | span[3]) : 0;
                if (magic is 42 or 43)
                {
                    return TiffInspector.Inspect(encoded);
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            // The inspectors bound-check every read; this is a last line of defence against a malformed header.
            throw new ImageDecodeException(ImageErrorKind.Corrupt, name, $"Image {label} has a malformed header: {ex.Message}", ex);
        }

        return InspectOther(encoded, name, label);
    }

    /// <summary>Formats without a structure check here (TGA, PBM): ImageSharp identifies them from the header.</summary>
    private static ContainerInspection InspectOther(ReadOnlyMemory<byte> encoded, string? name, string label)
    {
        IImageFormat? format;
        IImageInfo? info;
        try
        {
            using var stream = OpenStream(encoded);
            info = Image.Identify(SharedConfiguration, stream, out format);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // ImageSharp reports malformed headers with several exception types.
            throw new ImageDecodeException(ImageErrorKind.Corrupt, name, $"Image {label} has a malformed header: {ex.Message}", ex);
        }

        if (format is null || info is null)
        {
            throw new ImageDecodeException(
                ImageErrorKind.UnknownFormat,
                name,
                $"Image {label} is not in a supported format ({encoded.Length:N0} bytes starting {Convert.ToHexString(encoded.Span[..Math.Min(8, encoded.Length)])}); " +
                "supported: JPEG, PNG, GIF, WebP, BMP, TIFF, TGA, PBM.");
        }

        return new ContainerInspection
        {
            Container = ImageContainer.Other,
            Width = info.Width,
            Height = info.Height,
            LimitPixels = (long)info.Width * info.Height,
            Payload = encoded,
            Rule = PixelRule.Rgb8,
        };
    }

    private static DecodedImage DecodePixels(ContainerInspection inspection, string? name, string label)
    {
        try
        {
            return inspection.Rule switch
            {
                PixelRule.Grey16Clip => ConvertFrame<L16>(inspection, static (src, dst) =>
                {
                    for (var i = 0; i < src.Length; i++)
                    {
                        var v = (byte)Math.Min(src[i].PackedValue, (ushort)255);
                        dst[i * 3] = dst[(i * 3) + 1] = dst[(i * 3) + 2] = v;
                    }
                }),
                PixelRule.Colour16HighByte => ConvertFrame<Rgba64>(inspection, static (src, dst) =>
                {
                    for (var i = 0; i < src.Length; i++)
                    {
                        dst[i * 3] = (byte)(src[i].R >> 8);
                        dst[(i * 3) + 1] = (byte)(src[i].G >> 8);
                        dst[(i * 3) + 2] = (byte)(src[i].B >> 8);
                    }
                }),
                _ => ConvertFrame<Rgb24>(inspection, static (src, dst) => MemoryMarshal.AsBytes(src).CopyTo(dst)),
            };
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (NotSupportedException ex)
        {
            throw new ImageDecodeException(ImageErrorKind.Unsupported, name, $"Image {label} uses a feature the decoder does not support: {ex.Message}", ex);
        }
        catch (InvalidMemoryOperationException ex)
        {
            throw new ImageDecodeException(ImageErrorKind.TooManyPixels, name, $"Image {label} is too large to decode: {ex.Message}", ex);
        }
        catch (UnknownImageFormatException ex)
        {
            throw new ImageDecodeException(ImageErrorKind.UnknownFormat, name, $"Image {label} is not in a supported format: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // ImageSharp reports damaged data with many exception types (InvalidImageContentException,
            // ImageFormatException, InvalidDataException, and on some inputs IndexOutOfRange or NullReference);
            // all of them mean the same thing to the caller.
            throw new ImageDecodeException(ImageErrorKind.Corrupt, name, $"Image {label} is damaged and could not be decoded: {ex.Message}", ex);
        }
    }

    private delegate void RowConverter<TPixel>(ReadOnlySpan<TPixel> src, Span<byte> dst);

    /// <summary>Decodes with ImageSharp into <typeparamref name="TPixel"/>, converts to RGB24, places and orients the frame.</summary>
    private static DecodedImage ConvertFrame<TPixel>(ContainerInspection inspection, RowConverter<TPixel> convert)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var stream = OpenStream(inspection.Payload);
        using var image = Decoder(inspection.Container) is { } decoder
            ? decoder.Decode<TPixel>(SharedConfiguration, stream, CancellationToken.None)
            : Image.Load<TPixel>(SharedConfiguration, stream);

        var width = image.Width;
        var height = image.Height;
        var orientation = inspection.Orientation ?? ReadOrientation(image.Metadata);
        var frame = image.Frames.RootFrame;

        // Packed RGB of the decoded frame: straight into the result when nothing moves pixels around afterwards.
        var rgbLength = checked(width * height * 3);
        var direct = inspection.AnimatedFrame is null && !ExifOrientation.Transforms(orientation);
        var rgb = direct ? GC.AllocateUninitializedArray<byte>(rgbLength) : ArrayPool<byte>.Shared.Rent(rgbLength);
        try
        {
            if (frame.DangerousTryGetSinglePixelMemory(out var memory))
            {
                convert(memory.Span, rgb.AsSpan(0, rgbLength));
            }
            else
            {
                var samples = ArrayPool<TPixel>.Shared.Rent(width * height);
                try
                {
                    frame.CopyPixelDataTo(samples.AsSpan(0, width * height));
                    convert(samples.AsSpan(0, width * height), rgb.AsSpan(0, rgbLength));
                }
                finally
                {
                    ArrayPool<TPixel>.Shared.Return(samples);
                }
            }

            if (direct)
            {
                return new DecodedImage(width, height, rgb);
            }

            ReadOnlySpan<byte> pixels = rgb.AsSpan(0, rgbLength);
            byte[]? canvas = null;
            if (inspection.AnimatedFrame is { } placement)
            {
                // libwebp's animation decoder clears the canvas to transparent black for the first (key) frame.
                canvas = new byte[checked(inspection.Width * inspection.Height * 3)];
                Place(pixels, width, height, canvas, inspection.Width, inspection.Height, placement);
                pixels = canvas;
                width = inspection.Width;
                height = inspection.Height;
            }

            if (!ExifOrientation.Transforms(orientation))
            {
                return new DecodedImage(width, height, canvas ?? pixels.ToArray());
            }

            var upright = new byte[pixels.Length];
            ExifOrientation.Apply(pixels, width, height, orientation, upright);
            return ExifOrientation.SwapsAxes(orientation)
                ? new DecodedImage(height, width, upright)
                : new DecodedImage(width, height, upright);
        }
        finally
        {
            if (!direct)
            {
                ArrayPool<byte>.Shared.Return(rgb);
            }
        }
    }

    private static void Place(ReadOnlySpan<byte> frame, int frameWidth, int frameHeight, Span<byte> canvas, int canvasWidth, int canvasHeight, WebpFramePlacement placement)
    {
        var columns = Math.Min(frameWidth, canvasWidth - placement.X);
        for (var y = 0; y < frameHeight && placement.Y + y < canvasHeight; y++)
        {
            if (columns <= 0)
            {
                break;
            }

            frame.Slice(y * frameWidth * 3, columns * 3).CopyTo(canvas.Slice((((placement.Y + y) * canvasWidth) + placement.X) * 3));
        }
    }

    private static int ReadOrientation(ImageMetadata metadata)
    {
        try
        {
            return metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value ?? 1;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            // An unreadable EXIF block: Pillow applies no orientation either.
            return 1;
        }
    }

    private static IImageDecoder? Decoder(ImageContainer container) => container switch
    {
        ImageContainer.Jpeg => Jpeg,
        ImageContainer.Png => Png,
        ImageContainer.Gif => Gif,
        ImageContainer.Webp => Webp,
        ImageContainer.Bmp => Bmp,
        ImageContainer.Tiff => Tiff,
        _ => null,
    };

    private static MemoryStream OpenStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    private static Configuration CreateConfiguration()
    {
        var configuration = Configuration.Default.Clone();
        configuration.MaxDegreeOfParallelism = 1;
        configuration.PreferContiguousImageBuffers = true;
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
        return configuration;
    }
}
