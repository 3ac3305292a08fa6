using System.Runtime.InteropServices;
using System.Text.Json;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Images;

/// <summary>
/// The whole processor against a numpy re-implementation of Hugging Face's slow path (processor_cases.json): grid,
/// resized size, a digest of every float32 value, and sampled values within 1e-6.
/// </summary>
public sealed class Qwen2VlImageProcessorTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in ImageFixtures.Cases("processor_cases.json").EnumerateArray())
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Output_matches_the_reference_processor(string name)
    {
        var c = ImageFixtures.Cases("processor_cases.json").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var image = ImageFixtures.Load(c.GetProperty("source").GetString()!);
        var options = new Qwen2VlImageProcessorOptions
        {
            MinPixels = c.GetProperty("min_pixels").GetInt64(),
            MaxPixels = c.GetProperty("max_pixels").GetInt64(),
            SquarePreResize = c.GetProperty("square_pre_resize").ValueKind == JsonValueKind.Null ? null : c.GetProperty("square_pre_resize").GetInt32(),
            TinyImageRule = c.GetProperty("tiny_image_rule").GetBoolean(),
            SmartResizeVariant = Enum.Parse<SmartResizeVariant>(c.GetProperty("variant").GetString()!),
        };
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default, options);

        var result = processor.Process(image);

        var grid = c.GetProperty("grid").EnumerateArray().Select(g => g.GetInt32()).ToArray();
        Assert.Equal(grid, new[] { result.GridT, result.GridH, result.GridW });
        Assert.Equal(c.GetProperty("cols").GetInt32(), result.PatchRowLength);
        Assert.Equal(c.GetProperty("rows").GetInt32(), result.PatchCount);
        Assert.Equal(
            new ImageSize(c.GetProperty("resized_width").GetInt32(), c.GetProperty("resized_height").GetInt32()),
            processor.GetResizedSize(image.Size));

        foreach (var sample in c.GetProperty("samples").EnumerateArray())
        {
            var index = sample[0].GetInt64();
            var expected = sample[1].GetSingle();
            Assert.True(Math.Abs(result.PixelValues[index] - expected) <= 1e-6, $"{name}: value {index} is {result.PixelValues[index]:R}, reference {expected:R}.");
        }

        if (c.TryGetProperty("row0", out var row0))
        {
            var i = 0;
            foreach (var v in row0.EnumerateArray())
            {
                Assert.True(Math.Abs(result.PixelValues[i] - v.GetSingle()) <= 1e-6, $"{name}: row 0 column {i}.");
                i++;
            }
        }

        var sum = result.PixelValues.Sum(v => (double)v);
        Assert.Equal(c.GetProperty("sum").GetDouble(), sum, 6);

        // Bitwise: the same float32 values in the same order as the reference.
        Assert.Equal(c.GetProperty("pixel_values_sha256").GetString(), ImageFixtures.Sha256(MemoryMarshal.AsBytes(result.PixelValues.AsSpan())));
    }

    [Fact]
    public void Twenty_by_twenty_image_with_the_tiny_rule_gives_grid_1_4_4()
    {
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default, Qwen2VlImageProcessorOptions.Vlm2VecV2);
        var result = processor.Process(Coordinates(20, 20));
        Assert.Equal((1, 4, 4), (result.GridT, result.GridH, result.GridW));
        Assert.Equal(16, result.PatchCount);
        Assert.Equal(4, result.TokenCount(2));
        Assert.Equal(16 * 1176, result.PixelValues.Length);
    }

    [Fact]
    public void Without_the_tiny_rule_the_strict_variant_refuses_a_tiny_image()
    {
        var options = new Qwen2VlImageProcessorOptions { TinyImageRule = false, SmartResizeVariant = SmartResizeVariant.TransformersStrict };
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default, options);
        Assert.Throws<InvalidInputException>(() => processor.Process(Coordinates(20, 20)));
    }

    /// <summary>
    /// Spec §4.7: for a 4×4 patch grid the rows are patches (0,0), (0,1), (1,0), (1,1), (0,2), (0,3), (1,2), (1,3), …
    /// (2×2 merge blocks in raster order, raster order inside each block); inside a row: channel, then temporal copy,
    /// then the 14×14 pixels row-major. Checked on an image whose pixels encode their coordinates, with rescale and
    /// normalise off so values are the raw bytes.
    /// </summary>
    [Fact]
    public void Patch_rows_and_columns_follow_the_reference_order()
    {
        var config = ImageProcessorConfig.Default with { DoRescale = false, DoNormalize = false };
        var processor = new Qwen2VlImageProcessor(config, Qwen2VlImageProcessorOptions.Vlm2VecV2);
        var image = Coordinates(56, 56); // every pixel encodes its (x, y)
        var result = processor.Process(image);
        Assert.Equal((1, 4, 4), (result.GridT, result.GridH, result.GridW));

        (int Row, int Col)[] expectedOrder =
        [
            (0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3), (1, 2), (1, 3),
            (2, 0), (2, 1), (3, 0), (3, 1), (2, 2), (2, 3), (3, 2), (3, 3),
        ];
        for (var r = 0; r < expectedOrder.Length; r++)
        {
            var (patchRow, patchCol) = expectedOrder[r];
            var row = result.PixelValues.AsSpan(r * 1176, 1176);
            for (var c = 0; c < 3; c++)
            {
                for (var t = 0; t < 2; t++)
                {
                    for (var py = 0; py < 14; py++)
                    {
                        for (var px = 0; px < 14; px++)
                        {
                            var (x, y) = ((patchCol * 14) + px, (patchRow * 14) + py);
                            var pixel = image.GetPixel(x, y);
                            var expected = c == 0 ? pixel.R : c == 1 ? pixel.G : pixel.B;
                            var actual = row[(c * 2 * 196) + (t * 196) + (py * 14) + px];
                            Assert.True(expected == actual, $"row {r} (patch {patchRow},{patchCol}) c={c} t={t} py={py} px={px}: {actual} != {expected}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Normalisation_uses_the_reference_float32_arithmetic()
    {
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default, Qwen2VlImageProcessorOptions.Vlm2VecV2);
        var rgb = new byte[56 * 56 * 3];
        for (var i = 0; i < rgb.Length; i += 3)
        {
            (rgb[i], rgb[i + 1], rgb[i + 2]) = (0, 128, 255);
        }

        var result = processor.Process(new DecodedImage(56, 56, rgb));
        float Expected(int v, int c) => (float)((float)((float)(v * (1.0 / 255)) - (float)ImageProcessorConfig.ClipMean[c]) / (float)ImageProcessorConfig.ClipStd[c]);
        Assert.Equal(Expected(0, 0), result.PixelValues[0]);
        Assert.Equal(Expected(128, 1), result.PixelValues[392]);
        Assert.Equal(Expected(255, 2), result.PixelValues[784]);
        Assert.Equal(-1.7922626f, result.PixelValues[0], 6);
        Assert.Equal(2.145897f, result.PixelValues[784], 5);
    }

    [Fact]
    public void Builds_from_a_model_folder_with_the_hub_budget()
    {
        var processor = Qwen2VlImageProcessor.FromModelFolder(SharedData.Qwen2VlTokenizerFolder);
        Assert.Equal(3136, processor.MinPixels);
        Assert.Equal(12_845_056, processor.MaxPixels);
        Assert.Equal(new ImageSize(1344, 1344), processor.GetResizedSize(new ImageSize(1344, 1344)));

        var v2 = Qwen2VlImageProcessor.FromModelFolder(SharedData.Qwen2VlTokenizerFolder, Qwen2VlImageProcessorOptions.Vlm2VecV2);
        Assert.Equal(1_003_520, v2.MaxPixels);
        Assert.Equal(new ImageSize(980, 980), v2.GetResizedSize(new ImageSize(1344, 1344)));
    }

    [Fact]
    public void Presets_apply_the_vlm2vec_resolutions()
    {
        var hub = ImageProcessorConfig.Default with { MaxPixels = 12_845_056 };
        Assert.Equal(new ImageSize(1344, 1344), new Qwen2VlImageProcessor(hub, Qwen2VlImageProcessorOptions.Vlm2VecV1).GetResizedSize(new ImageSize(640, 480)));
        Assert.Equal(new ImageSize(980, 980), new Qwen2VlImageProcessor(hub, Qwen2VlImageProcessorOptions.Vlm2VecV1InV2).GetResizedSize(new ImageSize(640, 480)));
        Assert.Equal(new ImageSize(644, 476), new Qwen2VlImageProcessor(hub, Qwen2VlImageProcessorOptions.Vlm2VecV2).GetResizedSize(new ImageSize(640, 480)));
        Assert.Throws<InvalidInputException>(() => new Qwen2VlImageProcessor(hub, Qwen2VlImageProcessorOptions.HuggingFace).GetResizedSize(new ImageSize(30, 7000)));
    }

    [Fact]
    public void Without_resize_sides_must_be_multiples_of_28()
    {
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default with { DoResize = false });
        Assert.Equal(new ImageSize(84, 56), processor.GetResizedSize(new ImageSize(84, 56)));
        Assert.Throws<InvalidInputException>(() => processor.Process(Coordinates(60, 56)));
    }

    [Fact]
    public void Rejects_invalid_options()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Qwen2VlImageProcessor(ImageProcessorConfig.Default, new Qwen2VlImageProcessorOptions { MinPixels = 5000, MaxPixels = 4000 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Qwen2VlImageProcessor(ImageProcessorConfig.Default, new Qwen2VlImageProcessorOptions { SquarePreResize = 0 }));
        Assert.Throws<ModelFormatException>(() => new Qwen2VlImageProcessor(ImageProcessorConfig.Default with { PatchSize = 0 }));
    }

    [Fact]
    public void Processing_is_thread_safe_and_deterministic()
    {
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default, Qwen2VlImageProcessorOptions.Vlm2VecV2);
        var image = Coordinates(300, 211);
        var reference = processor.Process(image).PixelValues;
        Parallel.For(0, 8, _ => Assert.Equal(reference, processor.Process(image).PixelValues));
    }

    /// <summary>The coordinate pattern of make_image_fixtures.py: R = (7x + y), G = (5y + 3x), B = (x·y + 11), mod 256.</summary>
    internal static DecodedImage Coordinates(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = ((y * width) + x) * 3;
                rgb[i] = (byte)(((x * 7) + y) % 256);
                rgb[i + 1] = (byte)(((y * 5) + (x * 3)) % 256);
                rgb[i + 2] = (byte)(((x * y) + 11) % 256);
            }
        }

        return new DecodedImage(width, height, rgb);
    }
}
