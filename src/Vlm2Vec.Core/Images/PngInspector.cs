using System.Buffers.Binary;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Walks a PNG's chunks before decoding. Hand-written because ImageSharp 2.1 can loop forever on a PNG cut inside its
/// image data (seen with an interlaced file), and cannot report truncation as such.
/// </summary>
/// <remarks>
/// Rules (Pillow's, as far as a chunk walk can tell): a chunk cut short is truncation, wherever it is; a file that ends
/// cleanly after its image data without IEND is accepted (an IEND is appended for the decoder); a file that ends right
/// after an IDAT chunk without IEND is taken as cut inside its image data.
/// </remarks>
internal static class PngInspector
{
    private static ReadOnlySpan<byte> Iend => [0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82];

    public static ContainerInspection Inspect(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        const int Signature = 8;
        if (span.Length < Signature + 8 + 13)
        {
            return ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Truncated, "ends inside its PNG header (the file is truncated)");
        }

        var headerLength = BinaryPrimitives.ReadUInt32BigEndian(span[Signature..]);
        if (headerLength != 13 || !span.Slice(Signature + 4, 4).SequenceEqual("IHDR"u8))
        {
            return ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Corrupt, "does not start with a valid IHDR chunk");
        }

        var ihdr = span.Slice(Signature + 8, 13);
        var width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        var height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        var bitDepth = ihdr[8];
        var colorType = ihdr[9];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
        {
            return ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Corrupt, $"declares an invalid size {width}×{height}");
        }

        var w = (int)width;
        var h = (int)height;
        var pos = Signature;
        var end = pos;
        var sawImageData = false;
        var lastWasImageData = false;
        var sawEnd = false;
        while (pos < span.Length)
        {
            if (span.Length - pos < 8)
            {
                if (!sawImageData || lastWasImageData)
                {
                    return ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Truncated, "ends inside a chunk header (the file is truncated)", w, h);
                }

                break;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(span[pos..]);
            var type = span.Slice(pos + 4, 4);
            if (length > int.MaxValue)
            {
                return ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Corrupt, "has a chunk with an invalid length", w, h);
            }

            if ((long)pos + 12 + length > span.Length)
            {
                return ContainerInspection.Fail(
                    ImageContainer.Png,
                    ImageErrorKind.Truncated,
                    $"ends inside its '{System.Text.Encoding.ASCII.GetString(type)}' chunk (the file is truncated)",
                    w,
                    h);
            }

            pos += 12 + (int)length;
            end = pos;
            lastWasImageData = type.SequenceEqual("IDAT"u8);
            sawImageData |= lastWasImageData;
            if (type.SequenceEqual("IEND"u8))
            {
                sawEnd = true;
                break;
            }
        }

        if (!sawImageData)
        {
            return sawEnd
                ? ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Corrupt, "has no image data (IDAT chunk)", w, h)
                : ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Truncated, "ends before its image data (the file is truncated)", w, h);
        }

        if (!sawEnd && lastWasImageData)
        {
            return ContainerInspection.Fail(ImageContainer.Png, ImageErrorKind.Truncated, "ends right after an image data chunk, without IEND (the file is truncated)", w, h);
        }

        ReadOnlyMemory<byte> payload;
        if (sawEnd)
        {
            payload = data[..end];
        }
        else
        {
            var repaired = new byte[end + Iend.Length];
            span[..end].CopyTo(repaired);
            Iend.CopyTo(repaired.AsSpan(end));
            payload = repaired;
        }

        return new ContainerInspection
        {
            Container = ImageContainer.Png,
            Width = w,
            Height = h,
            LimitPixels = (long)w * h,
            Payload = payload,
            Rule = bitDepth != 16 ? PixelRule.Rgb8 : colorType == 0 ? PixelRule.Grey16Clip : PixelRule.Colour16HighByte,
        };
    }
}
