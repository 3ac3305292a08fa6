using System.Buffers.Binary;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Reads a TIFF's first IFD before decoding: the size (for the limit), the sample layout (for Pillow's 16-bit rules),
/// the orientation tag (Pillow's <c>exif_transpose</c> reads it from IFD0) and whether every strip or tile of the first
/// page lies inside the file. Hand-written: ImageSharp 2.1 exposes none of these before decoding.
/// </summary>
internal static class TiffInspector
{
    private const ushort ImageWidth = 256;
    private const ushort ImageLength = 257;
    private const ushort BitsPerSample = 258;
    private const ushort Photometric = 262;
    private const ushort StripOffsets = 273;
    private const ushort Orientation = 274;
    private const ushort SamplesPerPixel = 277;
    private const ushort StripByteCounts = 279;
    private const ushort TileOffsets = 324;
    private const ushort TileByteCounts = 325;

    public static ContainerInspection Inspect(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < 8)
        {
            return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Truncated, "ends inside its TIFF header (the file is truncated)");
        }

        var little = span[0] == (byte)'I';
        var reader = new Reader(span, little);
        var magic = reader.U16(2);
        if (magic == 43)
        {
            return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Unsupported, "is a BigTIFF, which is not supported");
        }

        var ifd = reader.U32(4);
        if (ifd < 8)
        {
            return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Corrupt, $"has an invalid first IFD offset {ifd}");
        }

        if (ifd + 2 > (uint)span.Length)
        {
            return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Truncated, "ends before its first IFD (the file is truncated)");
        }

        var count = reader.U16((int)ifd);
        if (ifd + 2 + (12L * count) > span.Length)
        {
            return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Truncated, "ends inside its first IFD (the file is truncated)");
        }

        long width = 0, height = 0, bits = 1, samples = 1, photometric = -1, orientation = 1;
        Entry offsets = default, byteCounts = default;
        for (var i = 0; i < count; i++)
        {
            var entry = new Entry(reader, (int)ifd + 2 + (12 * i));
            if (entry.DataEnd > span.Length)
            {
                return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Truncated, $"ends inside the data of TIFF tag {entry.Tag} (the file is truncated)");
            }

            switch (entry.Tag)
            {
                case ImageWidth: width = entry.Value(reader, 0); break;
                case ImageLength: height = entry.Value(reader, 0); break;
                case BitsPerSample: bits = entry.Value(reader, 0); break;
                case SamplesPerPixel: samples = entry.Value(reader, 0); break;
                case Photometric: photometric = entry.Value(reader, 0); break;
                case Orientation: orientation = entry.Value(reader, 0); break;
                case StripOffsets or TileOffsets: offsets = entry; break;
                case StripByteCounts or TileByteCounts: byteCounts = entry; break;
            }
        }

        if (width <= 0 || height <= 0 || width > int.MaxValue || height > int.MaxValue)
        {
            return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Corrupt, $"declares an invalid size {width}×{height}");
        }

        var w = (int)width;
        var h = (int)height;
        if (offsets.Count == 0 || byteCounts.Count != offsets.Count)
        {
            return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Corrupt, "has no consistent strip or tile offsets", w, h);
        }

        for (var i = 0; i < offsets.Count; i++)
        {
            if (offsets.Value(reader, i) + byteCounts.Value(reader, i) > span.Length)
            {
                return ContainerInspection.Fail(ImageContainer.Tiff, ImageErrorKind.Truncated, "ends before the end of its image data (the file is truncated)", w, h);
            }
        }

        var isGrey = photometric is 0 or 1;
        return new ContainerInspection
        {
            Container = ImageContainer.Tiff,
            Width = w,
            Height = h,
            LimitPixels = width * height,
            Payload = data,
            Rule = bits != 16 ? PixelRule.Rgb8 : isGrey && samples == 1 ? PixelRule.Grey16Clip : PixelRule.Colour16HighByte,
            Orientation = (int)orientation,
        };
    }

    private readonly ref struct Reader(ReadOnlySpan<byte> span, bool little)
    {
        private readonly ReadOnlySpan<byte> _span = span;

        public byte U8(int at) => _span[at];

        public ushort U16(int at) => little ? BinaryPrimitives.ReadUInt16LittleEndian(_span[at..]) : BinaryPrimitives.ReadUInt16BigEndian(_span[at..]);

        public uint U32(int at) => little ? BinaryPrimitives.ReadUInt32LittleEndian(_span[at..]) : BinaryPrimitives.ReadUInt32BigEndian(_span[at..]);
    }

    /// <summary>One IFD entry: tag, type, count, and where its values are (inline when they fit in 4 bytes).</summary>
    private readonly struct Entry
    {
        private readonly ushort _type;
        private readonly long _dataStart;

        public Entry(Reader reader, int at)
        {
            Tag = reader.U16(at);
            _type = reader.U16(at + 2);
            var count = reader.U32(at + 4);
            Count = count > int.MaxValue ? int.MaxValue : (int)count;
            var size = TypeSize(_type) * (long)count;
            _dataStart = size <= 4 ? at + 8 : reader.U32(at + 8);
            DataEnd = _dataStart + size;
        }

        public ushort Tag { get; }

        public int Count { get; }

        public long DataEnd { get; }

        /// <summary>Value <paramref name="index"/> as an integer (SHORT or LONG; other types read as 0).</summary>
        public long Value(Reader reader, int index) => _type switch
        {
            3 => reader.U16((int)_dataStart + (2 * index)),
            4 => reader.U32((int)_dataStart + (4 * index)),
            1 => reader.U8((int)_dataStart + index),
            _ => 0,
        };

        private static long TypeSize(ushort type) => type switch
        {
            1 or 2 or 6 or 7 => 1,
            3 or 8 => 2,
            4 or 9 or 11 or 13 => 4,
            5 or 10 or 12 or 16 or 17 or 18 => 8,
            _ => 1,
        };
    }
}
