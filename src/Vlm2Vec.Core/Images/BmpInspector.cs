using System.Buffers.Binary;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Reads a BMP header before decoding, for the size limit and to report truncation: ImageSharp 2.1 decodes a cut-off
/// uncompressed BMP without complaint. Hand-written: a dozen header fields.
/// </summary>
internal static class BmpInspector
{
    public static ContainerInspection Inspect(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < 26)
        {
            return ContainerInspection.Fail(ImageContainer.Bmp, ImageErrorKind.Truncated, "ends inside its BMP header (the file is truncated)");
        }

        var pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(span[10..]);
        var headerSize = BinaryPrimitives.ReadUInt32LittleEndian(span[14..]);
        long width, height;
        int bitsPerPixel;
        uint compression;
        if (headerSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(span[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(span[20..]);
            bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(span[24..]);
            compression = 0;
        }
        else if (headerSize >= 40)
        {
            if (span.Length < 14 + 40)
            {
                return ContainerInspection.Fail(ImageContainer.Bmp, ImageErrorKind.Truncated, "ends inside its BMP header (the file is truncated)");
            }

            width = BinaryPrimitives.ReadInt32LittleEndian(span[18..]);
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(span[22..]));
            bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
            compression = BinaryPrimitives.ReadUInt32LittleEndian(span[30..]);
        }
        else
        {
            return ContainerInspection.Fail(ImageContainer.Bmp, ImageErrorKind.Unsupported, $"has an unknown BMP header of {headerSize} bytes");
        }

        if (width <= 0 || height <= 0 || width > int.MaxValue || height > int.MaxValue)
        {
            return ContainerInspection.Fail(ImageContainer.Bmp, ImageErrorKind.Corrupt, $"declares an invalid size {width}×{height}");
        }

        var w = (int)width;
        var h = (int)height;

        // Uncompressed layouts (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS) have a known size; RLE and embedded JPEG/PNG do not.
        if (compression is 0 or 3 or 6 && bitsPerPixel is 1 or 2 or 4 or 8 or 16 or 24 or 32)
        {
            var stride = ((width * bitsPerPixel) + 31) / 32 * 4;
            var needed = pixelOffset + (stride * height);
            if (needed > span.Length)
            {
                return ContainerInspection.Fail(
                    ImageContainer.Bmp,
                    ImageErrorKind.Truncated,
                    $"is {span.Length:N0} bytes but its pixels need {needed:N0} (the file is truncated)",
                    w,
                    h);
            }
        }

        return new ContainerInspection
        {
            Container = ImageContainer.Bmp,
            Width = w,
            Height = h,
            LimitPixels = width * height,
            Payload = data,
            Rule = PixelRule.Rgb8,
        };
    }
}
