using System.Buffers.Binary;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Walks a JPEG's marker segments and entropy-coded scans before decoding. Hand-written because ImageSharp 2.1 decodes a
/// truncated JPEG without complaint (the missing blocks come out black) and throws a <see cref="NullReferenceException"/>
/// on stray bytes between segments, which libjpeg (Pillow) skips with a warning.
/// </summary>
/// <remarks>
/// The file is complete when the walk reaches EOI; otherwise it is truncated, as Pillow reports ("image file is
/// truncated"). Stray bytes before a marker are dropped, as libjpeg does, by re-assembling the segments into a clean
/// copy; a clean file is passed on unchanged (no copy). Bytes after EOI are ignored.
/// </remarks>
internal static class JpegInspector
{
    public static ContainerInspection Inspect(ReadOnlyMemory<byte> data)
    {
        var first = Walk(data.Span, null);
        if (first.ProblemKind is not null)
        {
            return ContainerInspection.Fail(ImageContainer.Jpeg, first.ProblemKind.Value, first.Problem!, first.Width, first.Height);
        }

        var payload = data[..first.End];
        if (first.StrayBytes > 0)
        {
            var clean = new byte[first.End];
            var second = Walk(data.Span, clean);
            payload = clean.AsMemory(0, second.Written);
        }

        return new ContainerInspection
        {
            Container = ImageContainer.Jpeg,
            Width = first.Width,
            Height = first.Height,
            LimitPixels = (long)first.Width * first.Height,
            Payload = payload,
            Rule = PixelRule.Rgb8,
        };
    }

    private static bool IsStartOfFrame(byte marker) =>
        marker is >= 0xC0 and <= 0xCF && marker is not 0xC4 and not 0xC8 and not 0xCC;

    /// <summary>One pass over the markers; when <paramref name="output"/> is given, the kept bytes are copied into it.</summary>
    private static WalkResult Walk(ReadOnlySpan<byte> span, Span<byte> output)
    {
        var result = new WalkResult();
        var writing = !output.IsEmpty;
        if (span.Length < 4 || span[0] != 0xFF || span[1] != 0xD8)
        {
            return result.Failed(ImageErrorKind.Corrupt, "does not start with a JPEG SOI marker");
        }

        Append(output, ref result, span[..2], writing);
        var pos = 2;
        var sawFrame = false;
        while (true)
        {
            var next = span[pos..].IndexOf((byte)0xFF);
            if (next < 0)
            {
                return result.Failed(ImageErrorKind.Truncated, "ends before its EOI marker (the file is truncated)");
            }

            result.StrayBytes += next;
            pos += next;
            while (pos < span.Length && span[pos] == 0xFF)
            {
                pos++;
            }

            if (pos >= span.Length)
            {
                return result.Failed(ImageErrorKind.Truncated, "ends before its EOI marker (the file is truncated)");
            }

            var marker = span[pos++];
            switch (marker)
            {
                case 0x00:
                    // An escaped 0xFF outside any scan: stray data.
                    result.StrayBytes += 2;
                    continue;
                case 0xD9:
                    Append(output, ref result, [0xFF, 0xD9], writing);
                    result.End = pos;
                    return sawFrame ? result : result.Failed(ImageErrorKind.Corrupt, "has no frame header (SOF marker)");
                case 0xD8:
                    return result.Failed(ImageErrorKind.Corrupt, "has a second SOI marker inside the image");
                case 0x01 or (>= 0xD0 and <= 0xD7):
                    Append(output, ref result, [0xFF, marker], writing);
                    continue;
            }

            if (pos + 2 > span.Length)
            {
                return result.Failed(ImageErrorKind.Truncated, "ends inside a marker segment (the file is truncated)");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(span[pos..]);
            if (length < 2)
            {
                return result.Failed(ImageErrorKind.Corrupt, $"has a marker segment 0xFF{marker:X2} with an invalid length {length}");
            }

            if (pos + length > span.Length)
            {
                return result.Failed(ImageErrorKind.Truncated, $"ends inside marker segment 0xFF{marker:X2} (the file is truncated)");
            }

            var segment = span.Slice(pos, length);
            if (IsStartOfFrame(marker) && !sawFrame)
            {
                if (length < 8)
                {
                    return result.Failed(ImageErrorKind.Corrupt, "has a frame header that is too short");
                }

                result.Height = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                result.Width = BinaryPrimitives.ReadUInt16BigEndian(segment[5..]);
                sawFrame = true;
                if (result.Width == 0)
                {
                    return result.Failed(ImageErrorKind.Corrupt, "declares a width of 0");
                }

                if (result.Height == 0)
                {
                    return result.Failed(ImageErrorKind.Unsupported, "declares its height later in the scan (DNL marker), which is not supported");
                }
            }

            Append(output, ref result, [0xFF, marker], writing);
            Append(output, ref result, segment, writing);
            pos += length;

            if (marker != 0xDA)
            {
                continue;
            }

            if (!sawFrame)
            {
                return result.Failed(ImageErrorKind.Corrupt, "has a scan before its frame header");
            }

            // Entropy-coded data runs to the next marker that is neither a stuffed zero nor a restart marker.
            var scanStart = pos;
            while (true)
            {
                var ff = span[pos..].IndexOf((byte)0xFF);
                if (ff < 0 || pos + ff + 1 >= span.Length)
                {
                    return result.Failed(ImageErrorKind.Truncated, "ends inside its image data (the file is truncated)");
                }

                var at = pos + ff;
                var following = span[at + 1];
                if (following is 0x00 or (>= 0xD0 and <= 0xD7))
                {
                    pos = at + 2;
                    continue;
                }

                if (following == 0xFF)
                {
                    pos = at + 1;
                    continue;
                }

                Append(output, ref result, span[scanStart..at], writing);
                pos = at;
                break;
            }
        }
    }

    private static void Append(Span<byte> output, ref WalkResult result, ReadOnlySpan<byte> bytes, bool writing)
    {
        if (writing)
        {
            bytes.CopyTo(output[result.Written..]);
            result.Written += bytes.Length;
        }
    }

    private struct WalkResult
    {
        public int Width;
        public int Height;
        public int End;
        public int Written;
        public int StrayBytes;
        public ImageErrorKind? ProblemKind;
        public string? Problem;

        public WalkResult Failed(ImageErrorKind kind, string problem)
        {
            ProblemKind = kind;
            Problem = problem;
            return this;
        }
    }
}
