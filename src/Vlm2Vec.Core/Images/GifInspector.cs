using System.Buffers.Binary;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Reads a GIF up to the end of its first frame. Hand-written because the decision to refuse a file has to come before
/// ImageSharp allocates anything: ImageSharp 2.1 sizes its index buffer from the frame descriptor, so the 44-byte
/// "decompression bomb" (a 32×32 screen with a 65 535×1 321 frame at row 65 280) would cost it ~86 MB, and Pillow
/// refuses it as a 65 535×66 601 canvas. Truncated frames decode silently in ImageSharp; here they are reported.
/// </summary>
/// <remarks>
/// The canvas checked against the limit is Pillow's: the logical screen grown to hold the first frame. Only the first
/// frame is handed to the decoder (the rest of the file is cut off and a trailer appended), as Pillow shows frame 0.
/// </remarks>
internal static class GifInspector
{
    public static ContainerInspection Inspect(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < 13)
        {
            return ContainerInspection.Fail(ImageContainer.Gif, ImageErrorKind.Truncated, "ends inside its GIF header (the file is truncated)");
        }

        int screenWidth = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
        int screenHeight = BinaryPrimitives.ReadUInt16LittleEndian(span[8..]);
        var flags = span[10];
        var pos = 13;
        if ((flags & 0x80) != 0)
        {
            pos += 3 << ((flags & 7) + 1);
            if (pos > span.Length)
            {
                return ContainerInspection.Fail(ImageContainer.Gif, ImageErrorKind.Truncated, "ends inside its colour table (the file is truncated)", screenWidth, screenHeight);
            }
        }

        while (true)
        {
            if (pos >= span.Length)
            {
                return ContainerInspection.Fail(ImageContainer.Gif, ImageErrorKind.Truncated, "ends before its first frame (the file is truncated)", screenWidth, screenHeight);
            }

            var block = span[pos];
            if (block == 0x21)
            {
                pos += 2;
                if (!SkipSubBlocks(span, ref pos))
                {
                    return ContainerInspection.Fail(ImageContainer.Gif, ImageErrorKind.Truncated, "ends inside an extension block (the file is truncated)", screenWidth, screenHeight);
                }

                continue;
            }

            if (block == 0x3B)
            {
                return ContainerInspection.Fail(ImageContainer.Gif, ImageErrorKind.Corrupt, "contains no image (its trailer comes before any frame)", screenWidth, screenHeight);
            }

            if (block != 0x2C)
            {
                return ContainerInspection.Fail(ImageContainer.Gif, ImageErrorKind.Corrupt, $"has an unknown block type 0x{block:X2}", screenWidth, screenHeight);
            }

            if (pos + 10 > span.Length)
            {
                return ContainerInspection.Fail(ImageContainer.Gif, ImageErrorKind.Truncated, "ends inside its first frame header (the file is truncated)", screenWidth, screenHeight);
            }

            int left = BinaryPrimitives.ReadUInt16LittleEndian(span[(pos + 1)..]);
            int top = BinaryPrimitives.ReadUInt16LittleEndian(span[(pos + 3)..]);
            int frameWidth = BinaryPrimitives.ReadUInt16LittleEndian(span[(pos + 5)..]);
            int frameHeight = BinaryPrimitives.ReadUInt16LittleEndian(span[(pos + 7)..]);
            var frameFlags = span[pos + 9];
            pos += 10;

            // Pillow grows the canvas to hold the first frame; the limit applies to that canvas and to the frame itself.
            var canvasWidth = Math.Max(screenWidth, left + frameWidth);
            var canvasHeight = Math.Max(screenHeight, top + frameHeight);
            var limitPixels = Math.Max((long)canvasWidth * canvasHeight, (long)frameWidth * frameHeight);
            ContainerInspection Problem(ImageErrorKind kind, string message) => new()
            {
                Container = ImageContainer.Gif,
                Width = canvasWidth,
                Height = canvasHeight,
                LimitPixels = limitPixels,
                ProblemKind = kind,
                Problem = message,
            };

            if ((frameFlags & 0x80) != 0)
            {
                pos += 3 << ((frameFlags & 7) + 1);
            }

            // LZW minimum code size, then the data sub-blocks.
            pos++;
            if (pos > span.Length || !SkipSubBlocks(span, ref pos))
            {
                return Problem(ImageErrorKind.Truncated, "ends inside its first frame (the file is truncated)");
            }

            if (screenWidth == 0 || screenHeight == 0 || frameWidth == 0 || frameHeight == 0)
            {
                return Problem(ImageErrorKind.Corrupt, $"declares an empty screen ({screenWidth}×{screenHeight}) or frame ({frameWidth}×{frameHeight})");
            }

            var payload = new byte[pos + 1];
            span[..pos].CopyTo(payload);
            payload[pos] = 0x3B;
            return new ContainerInspection
            {
                Container = ImageContainer.Gif,
                Width = canvasWidth,
                Height = canvasHeight,
                LimitPixels = limitPixels,
                Payload = payload,
                Rule = PixelRule.Rgb8,
            };
        }
    }

    /// <summary>Skips data sub-blocks up to and including the zero-length terminator; false when the file ends first.</summary>
    private static bool SkipSubBlocks(ReadOnlySpan<byte> span, ref int pos)
    {
        while (pos < span.Length)
        {
            var size = span[pos];
            pos += 1 + size;
            if (size == 0)
            {
                return true;
            }
        }

        return false;
    }
}
