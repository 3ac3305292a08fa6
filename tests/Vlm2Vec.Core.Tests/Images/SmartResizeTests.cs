using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Images;

/// <summary>smart_resize: the spec's worked examples (§3.3, §4.7) and a table computed with the Python reference.</summary>
public sealed class SmartResizeTests
{
    [Theory]
    [InlineData(480, 640, 1_003_520, 476, 644)]
    [InlineData(1344, 1344, 1_003_520, 980, 980)]
    [InlineData(1344, 1344, 12_845_056, 1344, 1344)]
    [InlineData(56, 56, 1_003_520, 56, 56)]
    public void Spec_worked_examples(int height, int width, long maxPixels, int expectedHeight, int expectedWidth)
    {
        var size = SmartResize.Compute(height, width, 28, 3136, maxPixels, SmartResizeVariant.Vlm2Vec);
        Assert.Equal(new ImageSize(expectedWidth, expectedHeight), size);
    }

    [Fact]
    public void Spec_token_counts_follow_from_the_grid()
    {
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default, Qwen2VlImageProcessorOptions.Vlm2VecV2);
        Assert.Equal(34 * 46, processor.GetPatchCount(new ImageSize(640, 480)));
        Assert.Equal(391, processor.GetTokenCount(new ImageSize(640, 480)));
        Assert.Equal(1225, processor.GetTokenCount(new ImageSize(1344, 1344)));
        var hub = new Qwen2VlImageProcessor(ImageProcessorConfig.Default with { MaxPixels = 12_845_056 }, new Qwen2VlImageProcessorOptions());
        Assert.Equal(9216, hub.GetPatchCount(new ImageSize(1344, 1344)));
        Assert.Equal(2304, hub.GetTokenCount(new ImageSize(1344, 1344)));
        Assert.Equal(4, processor.GetTokenCount(new ImageSize(20, 20)));
    }

    [Theory]
    [InlineData(70, 56)] // 2.5 -> 2 (ties to even), not 3
    [InlineData(42, 56)] // 1.5 -> 2
    [InlineData(98, 112)] // 3.5 -> 4
    [InlineData(126, 112)] // 4.5 -> 4
    public void Python_round_is_half_to_even(int side, int expected)
    {
        var size = SmartResize.Compute(side, 1000, 28, 1, long.MaxValue, SmartResizeVariant.Vlm2Vec);
        Assert.Equal(expected, size.Height);
    }

    [Fact]
    public void Matches_the_python_reference_for_every_tabulated_shape_budget_and_variant()
    {
        var root = ImageFixtures.Cases("smart_resize_cases.json");
        var budgets = root.GetProperty("budgets").EnumerateArray().Select(b => (b[0].GetInt64(), b[1].GetInt64())).ToArray();
        var variants = root.GetProperty("variants").EnumerateArray().Select(v => Enum.Parse<SmartResizeVariant>(v.GetString()!)).ToArray();
        var checkedRows = 0;
        var refused = 0;
        foreach (var row in root.GetProperty("rows").EnumerateArray())
        {
            var (h, w) = (row[0].GetInt32(), row[1].GetInt32());
            var (min, max) = budgets[row[2].GetInt32()];
            var variant = variants[row[3].GetInt32()];
            var (eh, ew) = (row[4].GetInt32(), row[5].GetInt32());
            if (eh == 0)
            {
                Assert.Throws<InvalidInputException>(() => SmartResize.Compute(h, w, 28, min, max, variant));
                refused++;
            }
            else
            {
                var size = SmartResize.Compute(h, w, 28, min, max, variant);
                Assert.True(new ImageSize(ew, eh) == size, $"{h}x{w} budget {min}-{max} {variant}: expected {ew}x{eh} (w x h), got {size}.");
            }

            checkedRows++;
        }

        Assert.True(checkedRows > 1000, $"only {checkedRows} rows");
        Assert.True(refused > 0, "the table should contain shapes the strict variants refuse");
    }

    [Fact]
    public void Vlm2Vec_variant_squares_tiny_and_extreme_images_instead_of_failing()
    {
        Assert.Equal(new ImageSize(56, 56), SmartResize.Compute(20, 20, 28, 3136, 1_003_520, SmartResizeVariant.Vlm2Vec));
        Assert.Equal(new ImageSize(308, 308), SmartResize.Compute(10, 300, 28, 3136, 1_003_520, SmartResizeVariant.Vlm2Vec));
        var elongated = SmartResize.Compute(30, 6100, 28, 3136, 1_003_520, SmartResizeVariant.Vlm2Vec);
        Assert.Equal(elongated.Width, elongated.Height);
    }

    [Fact]
    public void Strict_variants_refuse_with_a_message_that_says_why()
    {
        var small = Assert.Throws<InvalidInputException>(() => SmartResize.Compute(20, 300, 28, 3136, 1_003_520, SmartResizeVariant.TransformersStrict));
        Assert.Contains("under 28", small.Message, StringComparison.Ordinal);
        var ratio = Assert.Throws<InvalidInputException>(() => SmartResize.Compute(30, 6100, 28, 3136, 1_003_520, SmartResizeVariant.TransformersCurrent));
        Assert.Contains("aspect ratio", ratio.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => SmartResize.Compute(0, 10, 28, 3136, 1_003_520, SmartResizeVariant.Vlm2Vec));
    }

    [Fact]
    public void Current_variant_keeps_each_side_at_least_one_factor_when_shrinking()
    {
        // 28 x 5000 (ratio 178) squeezed into 3136..50176 pixels: floor would give a height of 0.
        var size = SmartResize.Compute(28, 5000, 28, 3136, 50_176, SmartResizeVariant.TransformersCurrent);
        Assert.Equal(28, size.Height);
        Assert.Throws<InvalidInputException>(() => SmartResize.Compute(28, 5000, 28, 3136, 50_176, SmartResizeVariant.Vlm2Vec));
    }
}
