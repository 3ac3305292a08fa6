using System.Text.Json;
using Vlm2Vec.Preprocessing;
using Xunit.Abstractions;

namespace Vlm2Vec.Core.Tests.Images;

/// <summary>
/// Every file of shared/data/images/robustness (Pillow's odd test images) against what Pillow 9.4 gives for
/// <c>ImageOps.exif_transpose(im).convert("RGB")</c> (decoded_robustness.json). Each file has an explicit expectation.
/// </summary>
/// <remarks>
/// JPEG: libjpeg-turbo (Pillow) and ImageSharp differ in IDCT rounding and in chroma up-sampling (libjpeg's "fancy"
/// triangular up-sampling of 4:2:0 chroma against ImageSharp's), so JPEGs are compared by mean absolute difference:
/// on 8×8 block means of the whole image (orientation, colour) and on a 32×32 full-resolution crop at the centre.
/// The 4:2:0 hopper files differ by about 1.5–1.9 levels on average over the whole image, with single values off by up
/// to ~45 at sharp colour edges; 4:4:4 and greyscale files by under 0.05. Every other format must match exactly.
/// </remarks>
public sealed class ImageDecoderRobustnessTests(ITestOutputHelper output)
{
    private enum Outcome
    {
        /// <summary>Same pixels as Pillow, byte for byte.</summary>
        Exact,

        /// <summary>A JPEG: within the block-mean and crop bounds.</summary>
        Jpeg,

        /// <summary>Refused with the expected kind (Pillow refuses these too).</summary>
        Refused,
    }

    /// <summary>The 43 files (42 images and the licence text) and what each must give. Comments say what the file exercises.</summary>
    private static readonly Dictionary<string, (Outcome Outcome, ImageErrorKind? Kind)> Expected = new(StringComparer.Ordinal)
    {
        ["16bit.cropped.tif"] = (Outcome.Exact, null),          // 16-bit grey TIFF: Pillow's I;16 clips at 255 (all white)
        ["1_trns.png"] = (Outcome.Exact, null),                 // 1-bit grey with tRNS: alpha dropped
        ["apng_mode_16bit.png"] = (Outcome.Exact, null),        // 16-bit RGBA APNG: first frame, high bytes
        ["decompression_bomb.gif"] = (Outcome.Refused, ImageErrorKind.TooManyPixels), // 44 bytes, 4.4 G pixel canvas
        ["dispose_bgnd.gif"] = (Outcome.Exact, null),           // animated GIF: frame 0
        ["exif_gps.jpg"] = (Outcome.Jpeg, null),                // EXIF with GPS IFD
        ["exif_imagemagick_orientation.png"] = (Outcome.Exact, null), // orientation 3 in ImageMagick's raw-profile text
        ["flower.jpg"] = (Outcome.Jpeg, null),
        ["flower.webp"] = (Outcome.Exact, null),                // lossy WebP
        ["flower2.jpg"] = (Outcome.Jpeg, null),                 // big-endian EXIF
        ["hopper.bmp"] = (Outcome.Exact, null),
        ["hopper.gif"] = (Outcome.Exact, null),                 // palette
        ["hopper.jpg"] = (Outcome.Jpeg, null),
        ["hopper.png"] = (Outcome.Exact, null),
        ["hopper.tif"] = (Outcome.Exact, null),
        ["hopper.webp"] = (Outcome.Exact, null),
        ["hopper_16bit_qtables.jpg"] = (Outcome.Jpeg, null),    // 16-bit quantisation tables
        ["hopper_bw_500.png"] = (Outcome.Exact, null),          // 1-bit
        ["hopper_g4.tif"] = (Outcome.Exact, null),              // CCITT group 4 fax
        ["hopper_gray.jpg"] = (Outcome.Jpeg, null),             // one channel
        ["hopper_orientation_2.jpg"] = (Outcome.Jpeg, null),    // EXIF orientations 2..8: all show hopper upright
        ["hopper_orientation_3.jpg"] = (Outcome.Jpeg, null),
        ["hopper_orientation_4.jpg"] = (Outcome.Jpeg, null),
        ["hopper_orientation_5.jpg"] = (Outcome.Jpeg, null),
        ["hopper_orientation_6.jpg"] = (Outcome.Jpeg, null),
        ["hopper_orientation_6.webp"] = (Outcome.Exact, null),  // EXIF orientation in a WebP EXIF chunk
        ["hopper_orientation_7.jpg"] = (Outcome.Jpeg, null),
        ["hopper_orientation_8.jpg"] = (Outcome.Jpeg, null),
        ["i_trns.png"] = (Outcome.Exact, null),
        ["LICENSE.Pillow"] = (Outcome.Refused, ImageErrorKind.UnknownFormat), // a text file, not an image                 // 16-bit grey + tRNS: Pillow's mode I, clipped
        ["iss634.apng"] = (Outcome.Exact, null),                // animated PNG: default image
        ["iss634.gif"] = (Outcome.Exact, null),                 // animated GIF, 42 frames: frame 0
        ["iss634.webp"] = (Outcome.Exact, null),                // animated WebP (ImageSharp 2.1 cannot): first frame
        ["l_trns.png"] = (Outcome.Exact, null),                 // grey + tRNS
        ["multipage.tiff"] = (Outcome.Exact, null),             // pages of different sizes: page 0
        ["pil123p.png"] = (Outcome.Exact, null),                // interlaced palette with tRNS
        ["pil123rgba.png"] = (Outcome.Exact, null),             // interlaced RGBA: alpha dropped, not blended
        ["pil_sample_cmyk.jpg"] = (Outcome.Jpeg, null),         // Adobe CMYK
        ["pil_sample_rgb.jpg"] = (Outcome.Jpeg, null),
        ["rgb_trns.png"] = (Outcome.Exact, null),               // RGB + tRNS
        ["truncated_app14.jpg"] = (Outcome.Jpeg, null),         // APP14 one byte short: libjpeg skips the stray byte
        ["truncated_end_chunk.png"] = (Outcome.Refused, ImageErrorKind.Truncated), // a chunk cut short after IDAT
        ["truncated_jpeg.jpg"] = (Outcome.Refused, ImageErrorKind.Truncated), // progressive JPEG cut in its scans
    };

    /// <summary>Bounds for JPEGs, in 8-bit levels (see the remarks).</summary>
    private const double JpegBlockMeanBound = 0.75;
    private const double JpegCropBound = 3.0;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var name in Expected.Keys.Order(StringComparer.Ordinal))
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void The_table_covers_every_file_in_the_folder()
    {
        var files = Directory.GetFiles(ImageFixtures.RobustnessFolder)
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(43, files.Length);
        Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal), files!);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void File_decodes_like_pillow_or_is_refused_with_a_typed_error(string file)
    {
        var (outcome, kind) = Expected[file];
        var reference = ImageFixtures.Cases("decoded_robustness.json").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file);
        var path = Path.Combine(ImageFixtures.RobustnessFolder, file);

        if (outcome == Outcome.Refused)
        {
            var ex = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageInput.FromFile(path)));
            Assert.Equal(kind, ex.Kind);
            Assert.Equal(file, Path.GetFileName(ex.Source));
            Assert.Contains(file, ex.Message, StringComparison.Ordinal);

            // Pillow refuses these files as well.
            Assert.True(reference.TryGetProperty("pil_error", out var pilError), $"Pillow decodes {file}; the expectation should say so.");
            output.WriteLine($"{file}: {ex.Kind}: {ex.Message} | Pillow: {pilError.GetString()}");
            return;
        }

        var image = ImageDecoder.Decode(ImageInput.FromFile(path));
        Assert.Equal(reference.GetProperty("width").GetInt32(), image.Width);
        Assert.Equal(reference.GetProperty("height").GetInt32(), image.Height);

        var blockMad = BlockMeanDifference(image, reference);
        if (outcome == Outcome.Exact)
        {
            Assert.True(reference.GetProperty("sha256").GetString() == ImageFixtures.Sha256(image.Rgb), $"{file}: pixels differ from Pillow's (block-mean MAD {blockMad:F3}).");
            return;
        }

        var crop = reference.GetProperty("crop");
        var cropMad = CropDifference(image, crop);
        output.WriteLine($"{file}: block-mean MAD {blockMad:F3}, crop MAD {cropMad:F3}");
        Assert.True(blockMad <= JpegBlockMeanBound, $"{file}: block means differ from Pillow's by {blockMad:F3} on average (bound {JpegBlockMeanBound}).");
        Assert.True(cropMad <= JpegCropBound, $"{file}: centre crop differs from Pillow's by {cropMad:F3} on average (bound {JpegCropBound}).");
    }

    [Fact]
    public void Orientations_2_to_8_all_show_the_upright_picture()
    {
        var upright = ImageDecoder.Decode(ImageInput.FromFile(Path.Combine(ImageFixtures.RobustnessFolder, "hopper.jpg")));
        for (var orientation = 2; orientation <= 8; orientation++)
        {
            var oriented = ImageDecoder.Decode(ImageInput.FromFile(Path.Combine(ImageFixtures.RobustnessFolder, $"hopper_orientation_{orientation}.jpg")));
            var mad = 0.0;
            for (var i = 0; i < upright.Rgb.Length; i++)
            {
                mad += Math.Abs(upright.Rgb[i] - oriented.Rgb[i]);
            }

            mad /= upright.Rgb.Length;

            // Re-encoded copies of the same picture: a wrong rotation or mirror gives tens of levels.
            Assert.True(mad < 6, $"orientation {orientation}: mean difference to hopper.jpg is {mad:F2}.");
        }
    }

    private static double BlockMeanDifference(DecodedImage image, JsonElement reference)
    {
        var expected = Convert.FromBase64String(reference.GetProperty("block_means_x100").GetString()!);
        var ys = Edges(image.Height);
        var xs = Edges(image.Width);
        var total = 0.0;
        var sum = new double[3];
        for (var i = 0; i < 8; i++)
        {
            for (var j = 0; j < 8; j++)
            {
                Array.Clear(sum);
                var count = 0;
                for (var y = ys[i]; y < Math.Max(ys[i + 1], ys[i] + 1); y++)
                {
                    for (var x = xs[j]; x < Math.Max(xs[j + 1], xs[j] + 1); x++)
                    {
                        var p = image.GetPixel(x, y);
                        sum[0] += p.R;
                        sum[1] += p.G;
                        sum[2] += p.B;
                        count++;
                    }
                }

                for (var c = 0; c < 3; c++)
                {
                    var e = BitConverter.ToUInt16(expected, (((i * 8) + j) * 3 * 2) + (c * 2)) / 100.0;
                    total += Math.Abs((sum[c] / count) - e);
                }
            }
        }

        return total / (8 * 8 * 3);
    }

    /// <summary>numpy's <c>np.linspace(0, n, 9).astype(int)</c>.</summary>
    private static int[] Edges(int n) => Enumerable.Range(0, 9).Select(k => (int)(k * (n / 8.0))).ToArray();

    private static double CropDifference(DecodedImage image, JsonElement crop)
    {
        var (x0, y0) = (crop.GetProperty("x").GetInt32(), crop.GetProperty("y").GetInt32());
        var (w, h) = (crop.GetProperty("width").GetInt32(), crop.GetProperty("height").GetInt32());
        var expected = Convert.FromBase64String(crop.GetProperty("rgb").GetString()!);
        var total = 0.0;
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var p = image.GetPixel(x0 + x, y0 + y);
                var e = ((y * w) + x) * 3;
                total += Math.Abs(p.R - expected[e]) + Math.Abs(p.G - expected[e + 1]) + Math.Abs(p.B - expected[e + 2]);
            }
        }

        return total / (w * h * 3);
    }
}
