using System.Buffers.Binary;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Reads a WebP's RIFF chunks before decoding. Hand-written because ImageSharp 2.1 (a) refuses animated WebP outright,
/// (b) ignores the EXIF orientation of a WebP, and (c) decodes a truncated WebP without complaint.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A file shorter than its RIFF header declares is truncated (libwebp's demuxer, used by Pillow, refuses it).</item>
/// <item>Animated files: the first <c>ANMF</c> frame's bitstream (with its <c>ALPH</c> chunk) is re-wrapped as a
/// still WebP for ImageSharp; the caller places it on a canvas cleared to transparent black, as libwebp's animation
/// decoder does for a key frame (so pixels outside the frame are black once alpha is dropped).</item>
/// <item>The <c>EXIF</c> chunk's orientation is read here.</item>
/// </list>
/// </remarks>
internal static class WebpInspector
{
    public static ContainerInspection Inspect(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < 20)
        {
            return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Truncated, "ends inside its WebP header (the file is truncated)");
        }

        var riffSize = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
        if (riffSize < 12 || riffSize > int.MaxValue - 8)
        {
            return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, $"declares an invalid RIFF size {riffSize}");
        }

        var fileEnd = (int)riffSize + 8;
        var truncated = fileEnd > span.Length;
        if (truncated)
        {
            fileEnd = span.Length;
        }

        int canvasWidth = 0, canvasHeight = 0;
        var animated = false;
        ReadOnlyMemory<byte> bitstream = default;
        ReadOnlyMemory<byte> exif = default;
        WebpFramePlacement? frame = null;
        var frameChunks = (Alpha: ReadOnlyMemory<byte>.Empty, Image: ReadOnlyMemory<byte>.Empty, IsLossless: false);

        var pos = 12;
        while (pos + 8 <= fileEnd)
        {
            var fourCc = span.Slice(pos, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 4)..]);
            var start = pos + 8;
            if (size > int.MaxValue || start + (long)size > fileEnd)
            {
                return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Truncated, $"ends inside its '{System.Text.Encoding.ASCII.GetString(fourCc)}' chunk (the file is truncated)", canvasWidth, canvasHeight);
            }

            var payload = data.Slice(start, (int)size);
            if (fourCc.SequenceEqual("VP8X"u8))
            {
                if (size < 10)
                {
                    return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, "has a VP8X chunk that is too short");
                }

                var p = payload.Span;
                animated = (p[0] & 0x02) != 0;
                canvasWidth = 1 + ReadUInt24(p[4..]);
                canvasHeight = 1 + ReadUInt24(p[7..]);
            }
            else if ((fourCc.SequenceEqual("VP8 "u8) || fourCc.SequenceEqual("VP8L"u8)) && bitstream.IsEmpty)
            {
                bitstream = data[..fileEnd];
                if (canvasWidth == 0 && !TryReadBitstreamSize(fourCc, payload.Span, out canvasWidth, out canvasHeight))
                {
                    return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, "has an invalid VP8/VP8L bitstream header");
                }
            }
            else if (fourCc.SequenceEqual("ANMF"u8) && frame is null)
            {
                if (size < 16)
                {
                    return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, "has an ANMF chunk that is too short", canvasWidth, canvasHeight);
                }

                var p = payload.Span;
                frame = new WebpFramePlacement(2 * ReadUInt24(p), 2 * ReadUInt24(p[3..]), 1 + ReadUInt24(p[6..]), 1 + ReadUInt24(p[9..]));
                if (!TryReadFrameChunks(payload[16..], out frameChunks))
                {
                    return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, "has a first animation frame without a valid image bitstream", canvasWidth, canvasHeight);
                }
            }
            else if (fourCc.SequenceEqual("EXIF"u8) && exif.IsEmpty)
            {
                exif = payload;
            }

            pos = start + (int)size + (int)(size & 1);
        }

        if (truncated)
        {
            return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Truncated, $"is {span.Length:N0} bytes but its RIFF header declares {riffSize + 8:N0} (the file is truncated)", canvasWidth, canvasHeight);
        }

        if (canvasWidth <= 0 || canvasHeight <= 0)
        {
            return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, "has no image data");
        }

        ReadOnlyMemory<byte> decoderInput;
        if (animated)
        {
            if (frame is null)
            {
                return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, "is animated but has no frame", canvasWidth, canvasHeight);
            }

            decoderInput = BuildStillWebp(frame.Value, frameChunks);
        }
        else if (bitstream.IsEmpty)
        {
            return ContainerInspection.Fail(ImageContainer.Webp, ImageErrorKind.Corrupt, "has no VP8/VP8L image data", canvasWidth, canvasHeight);
        }
        else
        {
            decoderInput = bitstream;
        }

        return new ContainerInspection
        {
            Container = ImageContainer.Webp,
            Width = canvasWidth,
            Height = canvasHeight,
            LimitPixels = Math.Max((long)canvasWidth * canvasHeight, frame is { } f ? (long)f.Width * f.Height : 0),
            Payload = decoderInput,
            Rule = PixelRule.Rgb8,
            Orientation = ReadOrientation(exif.Span),
            AnimatedFrame = animated ? frame : null,
        };
    }

    private static int ReadUInt24(ReadOnlySpan<byte> p) => p[0] | (p[1] << 8) | (p[2] << 16);

    private static bool TryReadBitstreamSize(ReadOnlySpan<byte> fourCc, ReadOnlySpan<byte> p, out int width, out int height)
    {
        width = height = 0;
        if (fourCc[3] == (byte)'L')
        {
            if (p.Length < 5 || p[0] != 0x2F)
            {
                return false;
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(p[1..]);
            width = (int)(bits & 0x3FFF) + 1;
            height = (int)((bits >> 14) & 0x3FFF) + 1;
            return true;
        }

        if (p.Length < 10 || p[3] != 0x9D || p[4] != 0x01 || p[5] != 0x2A)
        {
            return false;
        }

        width = BinaryPrimitives.ReadUInt16LittleEndian(p[6..]) & 0x3FFF;
        height = BinaryPrimitives.ReadUInt16LittleEndian(p[8..]) & 0x3FFF;
        return width > 0 && height > 0;
    }

    private static bool TryReadFrameChunks(ReadOnlyMemory<byte> frameData, out (ReadOnlyMemory<byte> Alpha, ReadOnlyMemory<byte> Image, bool IsLossless) chunks)
    {
        chunks = (ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, false);
        var span = frameData.Span;
        var pos = 0;
        while (pos + 8 <= span.Length)
        {
            var fourCc = span.Slice(pos, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 4)..]);
            if (size > int.MaxValue || pos + 8 + (long)size > span.Length)
            {
                return false;
            }

            var whole = frameData.Slice(pos, 8 + (int)size);
            if (fourCc.SequenceEqual("ALPH"u8))
            {
                chunks.Alpha = whole;
            }
            else if (fourCc.SequenceEqual("VP8 "u8) || fourCc.SequenceEqual("VP8L"u8))
            {
                chunks.Image = whole;
                chunks.IsLossless = fourCc[3] == (byte)'L';
                return true;
            }

            pos += 8 + (int)size + (int)(size & 1);
        }

        return false;
    }

    /// <summary>Wraps one animation frame's bitstream as a still WebP (VP8X + ALPH + VP8 when it has alpha).</summary>
    private static byte[] BuildStillWebp(WebpFramePlacement frame, (ReadOnlyMemory<byte> Alpha, ReadOnlyMemory<byte> Image, bool IsLossless) chunks)
    {
        var withAlpha = !chunks.IsLossless && !chunks.Alpha.IsEmpty;
        var alphaLength = withAlpha ? chunks.Alpha.Length + (chunks.Alpha.Length & 1) : 0;
        var imageLength = chunks.Image.Length + (chunks.Image.Length & 1);
        var headerLength = withAlpha ? 18 : 0;
        var total = 12 + headerLength + alphaLength + imageLength;
        var output = new byte[total];
        var o = output.AsSpan();
        "RIFF"u8.CopyTo(o);
        BinaryPrimitives.WriteUInt32LittleEndian(o[4..], (uint)(total - 8));
        "WEBP"u8.CopyTo(o[8..]);
        var pos = 12;
        if (withAlpha)
        {
            "VP8X"u8.CopyTo(o[pos..]);
            BinaryPrimitives.WriteUInt32LittleEndian(o[(pos + 4)..], 10);
            o[pos + 8] = 0x10;
            WriteUInt24(o[(pos + 12)..], frame.Width - 1);
            WriteUInt24(o[(pos + 15)..], frame.Height - 1);
            pos += 18;
            chunks.Alpha.Span.CopyTo(o[pos..]);
            pos += alphaLength;
        }

        chunks.Image.Span.CopyTo(o[pos..]);
        return output;
    }

    private static void WriteUInt24(Span<byte> p, int value)
    {
        p[0] = (byte)value;
        p[1] = (byte)(value >> 8);
        p[2] = (byte)(value >> 16);
    }

    /// <summary>The EXIF orientation tag of a WebP <c>EXIF</c> chunk (a TIFF header, sometimes after "Exif\0\0"), or null.</summary>
    private static int? ReadOrientation(ReadOnlySpan<byte> exif)
    {
        if (exif.Length < 8)
        {
            return null;
        }

        if (exif.StartsWith("Exif\0\0"u8))
        {
            exif = exif[6..];
        }

        try
        {
            var profile = new ExifProfile(exif.ToArray());
            var value = profile.GetValue(ExifTag.Orientation);
            return value is null ? null : value.Value;
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or InvalidOperationException or NotSupportedException)
        {
            // Unreadable EXIF: Pillow ignores it too (no orientation applied).
            return null;
        }
    }
}
