using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Images;

/// <summary>Limits, inputs, truncation and corruption: the decoder never crashes and always names the problem.</summary>
public sealed class ImageDecoderTests
{
    private static readonly string[] DecodableFiles =
    [
        "hopper.jpg", "hopper.png", "hopper.gif", "hopper.webp", "hopper.bmp", "hopper.tif", "pil123p.png", "pil123rgba.png",
        "flower.webp", "iss634.webp", "iss634.gif", "dispose_bgnd.gif", "hopper_orientation_6.webp", "pil_sample_cmyk.jpg",
        "hopper_g4.tif", "16bit.cropped.tif", "i_trns.png", "apng_mode_16bit.png", "multipage.tiff", "flower2.jpg",
    ];

    private static byte[] Read(string file) => File.ReadAllBytes(Path.Combine(ImageFixtures.RobustnessFolder, file));

    [Theory]
    [InlineData("hopper.jpg")]
    [InlineData("hopper.png")]
    [InlineData("hopper.gif")]
    [InlineData("hopper.webp")]
    [InlineData("hopper.bmp")]
    [InlineData("hopper.tif")]
    public void Pixel_limit_is_enforced_from_the_header(string file)
    {
        var limits = new ImageLimits { MaxPixels = (128 * 128) - 1 };
        var ex = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(Read(file), file, limits));
        Assert.Equal(ImageErrorKind.TooManyPixels, ex.Kind);
        Assert.Contains("128×128", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ImageLimits.MaxPixels", ex.Message, StringComparison.Ordinal);

        Assert.Equal(128, ImageDecoder.Decode(Read(file), file, new ImageLimits { MaxPixels = 128 * 128 }).Width);
    }

    [Fact]
    public void Decompression_bomb_is_refused_without_allocating_its_canvas()
    {
        var bomb = Read("decompression_bomb.gif");
        Assert.Equal(44, bomb.Length);
        ImageDecodeException? error = null;
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            ImageDecoder.Decode(bomb, "bomb.gif");
        }
        catch (ImageDecodeException ex)
        {
            error = ex;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotNull(error);
        Assert.Equal(ImageErrorKind.TooManyPixels, error.Kind);
        Assert.Equal("bomb.gif", error.Source);
        Assert.True(allocated < 256 * 1024, $"refusing the bomb allocated {allocated:N0} bytes");
    }

    [Fact]
    public void Encoded_size_limit_is_enforced_for_bytes_and_files()
    {
        var bytes = Read("hopper.png");
        var limits = new ImageLimits { MaxEncodedBytes = bytes.Length - 1 };
        Assert.Equal(ImageErrorKind.TooManyBytes, Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes, "a.png", limits)).Kind);
        var path = Path.Combine(ImageFixtures.RobustnessFolder, "hopper.png");
        Assert.Equal(ImageErrorKind.TooManyBytes, Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageInput.FromFile(path), limits)).Kind);
        Assert.Equal(128, ImageDecoder.Decode(ImageInput.FromFile(path), new ImageLimits { MaxEncodedBytes = bytes.Length }).Width);
    }

    [Fact]
    public void Empty_unknown_missing_and_invalid_limits_are_typed()
    {
        Assert.Equal(ImageErrorKind.Empty, Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ReadOnlyMemory<byte>.Empty, "e")).Kind);
        var unknown = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("hello, not an image"u8.ToArray(), "note.txt"));
        Assert.Equal(ImageErrorKind.UnknownFormat, unknown.Kind);
        Assert.Contains("'note.txt'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("JPEG, PNG", unknown.Message, StringComparison.Ordinal);
        using var folder = new TempFolder();
        Assert.Equal(ImageErrorKind.Unreadable, Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageInput.FromFile(folder.Combine("missing.png")))).Kind);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageDecoder.Decode(Read("hopper.png"), null, new ImageLimits { MaxPixels = 0 }));
    }

    [Fact]
    public void Streams_and_sliced_memory_decode_like_files()
    {
        var bytes = Read("hopper.png");
        var fromFile = ImageDecoder.Decode(ImageInput.FromFile(Path.Combine(ImageFixtures.RobustnessFolder, "hopper.png")));
        var fromStream = ImageDecoder.Decode(ImageInput.FromStream(new MemoryStream(bytes), "stream"));
        var padded = new byte[bytes.Length + 10];
        bytes.CopyTo(padded, 5);
        var fromSlice = ImageDecoder.Decode(padded.AsMemory(5, bytes.Length));
        Assert.Equal(fromFile.Rgb, fromStream.Rgb);
        Assert.Equal(fromFile.Rgb, fromSlice.Rgb);
    }

    /// <summary>Pillow's convert("RGB") rules on synthetic PNGs: alpha dropped (never blended), 16-bit grey clipped, 16-bit colour high byte.</summary>
    [Fact]
    public void Conversion_rules_follow_pillow()
    {
        var greyAlpha = Encode(new Image<La16>(2, 1) { [0, 0] = new La16(10, 0), [1, 0] = new La16(200, 128) }, PngColorType.GrayscaleWithAlpha, PngBitDepth.Bit8);
        Assert.Equal(new byte[] { 10, 10, 10, 200, 200, 200 }, ImageDecoder.Decode(greyAlpha).Rgb);

        var rgba = Encode(new Image<Rgba32>(2, 1) { [0, 0] = new Rgba32(1, 2, 3, 0), [1, 0] = new Rgba32(250, 251, 252, 7) }, PngColorType.RgbWithAlpha, PngBitDepth.Bit8);
        Assert.Equal(new byte[] { 1, 2, 3, 250, 251, 252 }, ImageDecoder.Decode(rgba).Rgb);

        // Pillow opens 16-bit grey as mode I and clips: 300 -> 255, 100 -> 100 (scaling would give 1 and 0).
        var grey16 = Encode(new Image<L16>(3, 1) { [0, 0] = new L16(300), [1, 0] = new L16(100), [2, 0] = new L16(65535) }, PngColorType.Grayscale, PngBitDepth.Bit16);
        Assert.Equal(new byte[] { 255, 255, 255, 100, 100, 100, 255, 255, 255 }, ImageDecoder.Decode(grey16).Rgb);

        // 16-bit colour keeps the high byte: 0x8100 -> 0x81 (rounding v/257 would give 0x80).
        var rgb48 = Encode(new Image<Rgb48>(1, 1) { [0, 0] = new Rgb48(0x8100, 0x00FF, 0xFFFF) }, PngColorType.Rgb, PngBitDepth.Bit16);
        Assert.Equal(new byte[] { 0x81, 0x00, 0xFF }, ImageDecoder.Decode(rgb48).Rgb);

        static byte[] Encode<TPixel>(Image<TPixel> image, PngColorType colorType, PngBitDepth bitDepth)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            using (image)
            {
                using var stream = new MemoryStream();
                image.SaveAsPng(stream, new PngEncoder { ColorType = colorType, BitDepth = bitDepth });
                return stream.ToArray();
            }
        }
    }

    /// <summary>
    /// Orientation from a PNG eXIf chunk (the robustness PNG carries it in ImageMagick's text chunk instead).
    /// Orientation 6 is Pillow's ROTATE_270: the upright pixel (x, y) is source pixel (y, H − 1 − x).
    /// </summary>
    [Fact]
    public void Png_exif_chunk_orientation_is_applied()
    {
        using var image = new Image<Rgb24>(3, 2);
        for (var y = 0; y < 2; y++)
        {
            for (var x = 0; x < 3; x++)
            {
                image[x, y] = new Rgb24((byte)(x * 40), (byte)(y * 100), 7);
            }
        }

        image.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
        image.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, (ushort)6);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        Assert.True(stream.ToArray().AsSpan().IndexOf("eXIf"u8) > 0, "the encoder should write an eXIf chunk");

        var decoded = ImageDecoder.Decode(stream.ToArray(), "exif.png");
        Assert.Equal((2, 3), (decoded.Width, decoded.Height));
        for (var y = 0; y < 3; y++)
        {
            for (var x = 0; x < 2; x++)
            {
                var (sx, sy) = (y, 2 - 1 - x);
                Assert.Equal(((byte)(sx * 40), (byte)(sy * 100), (byte)7), decoded.GetPixel(x, y));
            }
        }
    }

    public static TheoryData<string> Decodable() => new(DecodableFiles);

    /// <summary>
    /// Each file cut at 16 points: the decoder must return an image or an <see cref="ImageDecodeException"/>, promptly
    /// (ImageSharp 2.1 alone loops forever on some cut PNGs). JPEG, PNG, WebP and BMP cuts are reported as truncation.
    /// </summary>
    [Theory]
    [MemberData(nameof(Decodable))]
    public void Truncated_files_never_crash_or_hang(string file)
    {
        var bytes = Read(file);
        var mustReportTruncation = file.EndsWith(".jpg", StringComparison.Ordinal) || file.EndsWith(".png", StringComparison.Ordinal)
            || file.EndsWith(".webp", StringComparison.Ordinal) || file.EndsWith(".bmp", StringComparison.Ordinal);
        for (var k = 1; k <= 16; k++)
        {
            var length = (int)(bytes.Length * (k / 17.0));
            var cut = bytes.AsMemory(0, length);
            var outcome = RunBounded(() => ImageDecoder.Decode(cut, $"{file}[..{length}]"), $"{file} cut at {length}");
            if (outcome is ImageDecodeException ex)
            {
                Assert.Contains($"{file}[..{length}]", ex.Message, StringComparison.Ordinal);
                if (mustReportTruncation)
                {
                    Assert.True(ex.Kind == ImageErrorKind.Truncated, $"{file} cut at {length}: {ex.Kind}: {ex.Message}");
                }
            }
            else if (mustReportTruncation && !file.EndsWith(".png", StringComparison.Ordinal))
            {
                Assert.Fail($"{file} cut at {length} of {bytes.Length} bytes decoded without reporting truncation.");
            }
        }
    }

    /// <summary>Random byte changes (fixed seed): an image or an <see cref="ImageDecodeException"/>, never anything else.</summary>
    [Theory]
    [MemberData(nameof(Decodable))]
    public void Corrupted_files_never_crash_or_hang(string file)
    {
        var bytes = Read(file);
        var random = new Random(file.Length * 7919);
        for (var trial = 0; trial < 24; trial++)
        {
            var copy = (byte[])bytes.Clone();
            var changes = 1 + random.Next(6);
            for (var i = 0; i < changes; i++)
            {
                // Mostly after the first bytes, so the header survives and the decoder itself is exercised.
                copy[random.Next(Math.Min(16, copy.Length - 1), copy.Length)] = (byte)random.Next(256);
            }

            RunBounded(() => ImageDecoder.Decode(copy, file), $"{file} trial {trial}");
        }
    }

    /// <summary>Runs a decode with a time bound; returns the image or the typed exception, fails on anything else.</summary>
    private static object RunBounded(Func<DecodedImage> decode, string label)
    {
        var task = Task.Run<object>(() =>
        {
            try
            {
                return decode();
            }
            catch (ImageDecodeException ex)
            {
                return ex;
            }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(20)), $"{label}: decoding did not finish within 20 s.");
        return task.Result;
    }
}
