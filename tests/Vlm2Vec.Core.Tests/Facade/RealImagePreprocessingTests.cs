using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Facade;

/// <summary>The whole preprocessing path on the real Qwen2-VL tokenizer folder and real image files.</summary>
public sealed class RealImagePreprocessingTests
{
    private static readonly Lazy<Vlm2VecPreprocessor> Default = new(() => Vlm2VecPreprocessor.FromFolder(SharedData.Qwen2VlTokenizerFolder));

    private static ImageInput Robustness(string name) => ImageInput.FromFile(SharedData.Path("images", "robustness", name));

    private static ImageInput Caltech(string path) => ImageInput.FromFile(SharedData.Path("classification", "caltech101-test10", "images", path));

    [Fact]
    public void Model_folder_gives_the_qwen2_vl_settings()
    {
        var preprocessor = Default.Value;
        Assert.Equal(151655, preprocessor.Config.ImageTokenId);
        Assert.Equal("<|image_pad|>", preprocessor.Formatter.Options.ImagePlaceholder);
        Assert.Equal(151643, preprocessor.Collator.Options.PadTokenId);
        Assert.Equal(PaddingSide.Left, preprocessor.Collator.Options.Padding);
        Assert.Equal(32768, preprocessor.MaxTokens);
    }

    [Fact]
    public void A_128px_image_is_resized_to_140px_and_becomes_25_tokens()
    {
        // smart_resize: round(128 / 28) · 28 = 140 -> 10×10 patches -> 25 merged tokens.
        var prepared = Default.Value.Prepare(MmebCatalog.Get("ImageNet-1K").CreateQuery(image: Robustness("hopper.png")));
        var image = Assert.Single(prepared.Images);
        Assert.Equal((1, 10, 10, 1176), (image.GridT, image.GridH, image.GridW, image.PatchRowLength));
        Assert.Equal([.. Enumerable.Repeat(151655, 25), 198, 65743, 279, 2661, 2168, 369, 23850, 198], prepared.InputIds);
    }

    [Theory]
    [InlineData("accordion/image_0001.jpg", 22, 18)]  // 260×300 -> 252×308
    [InlineData("accordion/image_0004.jpg", 14, 22)]  // 300×199 -> 308×196
    public void Caltech_images_get_their_smart_resize_grids(string path, int gridH, int gridW)
    {
        var prepared = Default.Value.Prepare(MultimodalInput.FromImage(Caltech(path), "Represent the given image for classification"));
        var image = Assert.Single(prepared.Images);
        Assert.Equal((gridH, gridW), (image.GridH, image.GridW));
        Assert.Equal(gridH * gridW / 4, prepared.InputIds.Count(id => id == 151655));
    }

    [Fact]
    public void Image_processor_options_reach_the_processor()
    {
        // V1 models: 1344×1344 square first, hub budget kept -> 96×96 patches -> 2,304 tokens (VLM2Vec #79).
        var v1 = new Vlm2VecPreprocessor(
            Default.Value.Config, Default.Value.Tokenizer, ImageProcessorConfig.FromModelFolder(SharedData.Qwen2VlTokenizerFolder),
            new PreprocessorOptions { ImageProcessor = Qwen2VlImageProcessorOptions.Vlm2VecV1 });
        Assert.Equal(2304, v1.Prepare(MultimodalInput.FromImage(Robustness("hopper.png"))).InputIds.Count(id => id == 151655));

        // V1 models re-evaluated with V2 code: 1344² under the 1,003,520-pixel budget -> 980×980 -> 1,225 tokens.
        var v1InV2 = new Vlm2VecPreprocessor(
            Default.Value.Config, Default.Value.Tokenizer, ImageProcessorConfig.FromModelFolder(SharedData.Qwen2VlTokenizerFolder),
            new PreprocessorOptions { ImageProcessor = Qwen2VlImageProcessorOptions.Vlm2VecV1InV2 });
        Assert.Equal(1225, v1InV2.Prepare(MultimodalInput.FromImage(Robustness("hopper.png"))).InputIds.Count(id => id == 151655));
    }

    [Fact]
    public void Collation_concatenates_the_real_patches_in_row_order()
    {
        var preprocessor = Default.Value;
        var a = preprocessor.Prepare(MultimodalInput.FromImage(Robustness("hopper.png"), "Represent the given image."));
        var b = preprocessor.Prepare(MmebCatalog.Get("MSCOCO_t2i").CreateQuery("A woman in a uniform."));
        var c = preprocessor.Prepare(MultimodalInput.FromImage(Caltech("accordion/image_0004.jpg"), "Represent the given image."));
        var batch = preprocessor.Collate([a, b, c]);

        Assert.Equal([1, 0, 1], batch.ImagesPerRow);
        Assert.Equal(new long[] { 1, 10, 10, 1, 14, 22 }, batch.ImageGridThw);
        Assert.Equal(a.Images[0].PixelValues.Concat(c.Images[0].PixelValues), batch.PixelValues);
        Assert.Equal(25 + 77, batch.ImageTokenMask.Sum());
        for (var s = 0; s < 3; s++)
        {
            var row0 = batch.PositionIds.AsSpan(s * 3 * batch.SequenceLength + (batch.SequenceLength - a.Length), a.Length).ToArray();
            Assert.Equal(Enumerable.Range(0, a.Length).Select(i => (long)i), row0);
        }
    }

    [Fact]
    public void Exif_orientation_is_applied_before_resizing()
    {
        // hopper_orientation_6 is stored rotated; the upright image is hopper.jpg's 128×128, so the grid matches.
        var upright = Default.Value.Prepare(MultimodalInput.FromImage(Robustness("hopper.jpg")));
        var rotated = Default.Value.Prepare(MultimodalInput.FromImage(Robustness("hopper_orientation_6.jpg")));
        Assert.Equal((upright.Images[0].GridH, upright.Images[0].GridW), (rotated.Images[0].GridH, rotated.Images[0].GridW));
    }

    [Theory]
    [InlineData("truncated_jpeg.jpg")]
    [InlineData("decompression_bomb.gif")]
    public void Broken_files_are_refused_with_an_image_error(string name)
    {
        var error = Assert.Throws<ImageDecodeException>(() => Default.Value.Prepare(MultimodalInput.FromImage(Robustness(name))));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_is_an_image_error_not_an_io_exception()
    {
        var error = Assert.Throws<ImageDecodeException>(() => Default.Value.Prepare(MultimodalInput.FromImage(ImageInput.FromFile("/nonexistent/cat.jpg"))));
        Assert.Equal(ImageErrorKind.Unreadable, error.Kind);
    }

    [Fact]
    public void Mismatched_image_processor_is_refused()
    {
        var config = ImageProcessorConfig.FromModelFolder(SharedData.Qwen2VlTokenizerFolder) with { MergeSize = 4 };
        Assert.Throws<ModelFormatException>(() => new Vlm2VecPreprocessor(Default.Value.Config, Default.Value.Tokenizer, config));
    }

    [Fact]
    public async Task Embedder_over_real_files_reports_bad_images_per_item()
    {
        var encoder = new FakeEncoder(Default.Value);
        List<MultimodalInput> inputs =
        [
            MmebCatalog.Get("ImageNet-1K").CreateQuery(image: Robustness("hopper.png")),
            MmebCatalog.Get("ImageNet-1K").CreateQuery(image: Robustness("truncated_jpeg.jpg")),
            MmebCatalog.Get("ImageNet-1K").CreateTarget("accordion"),
            MmebCatalog.Get("ImageNet-1K").CreateQuery(image: Caltech("accordion/image_0001.jpg")),
            MmebCatalog.Get("ImageNet-1K").CreateQuery(image: Robustness("decompression_bomb.gif")),
        ];
        var results = await new Vlm2VecEmbedder(encoder).EmbedEachAsync(inputs);
        Assert.Equal([true, false, true, true, false], results.Select(r => r.Succeeded));
        Assert.IsType<ImageDecodeException>(results[1].Error!.InnerException);
        Assert.IsType<ImageDecodeException>(results[4].Error!.InnerException);
        var batch = Assert.Single(encoder.Batches);
        Assert.Equal(3, batch.BatchSize);
        Assert.Equal(25 + 99, batch.ImageTokenMask.Sum());
    }
}
