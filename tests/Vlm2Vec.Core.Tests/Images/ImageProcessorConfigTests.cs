using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Images;

public sealed class ImageProcessorConfigTests
{
    [Fact]
    public void Reads_the_qwen2_vl_hub_file()
    {
        var config = ImageProcessorConfig.FromModelFolder(SharedData.Qwen2VlTokenizerFolder);
        Assert.Equal(3136, config.MinPixels);
        Assert.Equal(12_845_056, config.MaxPixels);
        Assert.Equal(14, config.PatchSize);
        Assert.Equal(2, config.TemporalPatchSize);
        Assert.Equal(2, config.MergeSize);
        Assert.Equal(28, config.Factor);
        Assert.Equal(1176, config.PatchRowLength);
        Assert.Equal(ImageProcessorConfig.ClipMean, config.ImageMean);
        Assert.Equal(ImageProcessorConfig.ClipStd, config.ImageStd);
        Assert.Equal("Qwen2VLImageProcessor", config.ImageProcessorType);
        Assert.True(config.DoResize && config.DoRescale && config.DoNormalize);
        Assert.Equal(PilResampleFilter.Bicubic, config.Resample);
    }

    [Fact]
    public void Absent_keys_take_the_class_defaults()
    {
        var config = ImageProcessorConfig.FromJson("{}");
        Assert.Equal(ImageProcessorConfig.Default, config);
        Assert.Equal(3136, config.MinPixels);
        Assert.Equal(1_003_520, config.MaxPixels);
        Assert.Equal(1.0 / 255, config.RescaleFactor);
    }

    [Fact]
    public void Reads_the_size_form_and_lets_min_max_pixels_win()
    {
        var size = ImageProcessorConfig.FromJson("""{"size": {"shortest_edge": 784, "longest_edge": 200704}}""");
        Assert.Equal((784, 200704), (size.MinPixels, size.MaxPixels));

        var legacy = ImageProcessorConfig.FromJson("""{"size": {"min_pixels": 1000, "max_pixels": 90000}}""");
        Assert.Equal((1000, 90000), (legacy.MinPixels, legacy.MaxPixels));

        var both = ImageProcessorConfig.FromJson("""{"size": {"shortest_edge": 784, "longest_edge": 200704}, "max_pixels": 401408}""");
        Assert.Equal((784, 401408), (both.MinPixels, both.MaxPixels));
    }

    [Fact]
    public void Reads_every_documented_key()
    {
        var config = ImageProcessorConfig.FromJson("""
            {
              "patch_size": 16, "temporal_patch_size": 1, "merge_size": 1,
              "image_mean": 0.5, "image_std": [0.25, 0.5, 1.0],
              "do_resize": false, "do_rescale": false, "do_normalize": false, "rescale_factor": 0.5,
              "resample": 2, "min_pixels": 3136.0, "image_processor_type": "Qwen2VLImageProcessorFast"
            }
            """);
        Assert.Equal((16, 1, 1), (config.PatchSize, config.TemporalPatchSize, config.MergeSize));
        Assert.Equal([0.5, 0.5, 0.5], config.ImageMean);
        Assert.Equal([0.25, 0.5, 1.0], config.ImageStd);
        Assert.False(config.DoResize || config.DoRescale || config.DoNormalize);
        Assert.Equal(0.5, config.RescaleFactor);
        Assert.Equal(PilResampleFilter.Bilinear, config.Resample);
        Assert.Equal(3136, config.MinPixels);
        Assert.Equal(16 * 16 * 3, config.PatchRowLength);
    }

    [Fact]
    public void Overrides_are_with_expressions()
    {
        var config = ImageProcessorConfig.Default with { MaxPixels = 12_845_056 };
        Assert.Equal(12_845_056, config.MaxPixels);
        Assert.Equal(1_003_520, ImageProcessorConfig.Default.MaxPixels);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"image_processor_type": "CLIPImageProcessor"}""")]
    [InlineData("""{"image_std": [0.2, 0, 0.2]}""")]
    [InlineData("""{"image_mean": [0.2, 0.2]}""")]
    [InlineData("""{"min_pixels": 5000, "max_pixels": 4000}""")]
    [InlineData("""{"patch_size": "fourteen"}""")]
    [InlineData("""{"patch_size": 14.5}""")]
    [InlineData("""{"resample": 0}""")]
    public void Invalid_files_raise_model_format_errors(string json)
    {
        var ex = Assert.Throws<ModelFormatException>(() => ImageProcessorConfig.FromJson(json));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void A_missing_file_names_the_path()
    {
        using var folder = new TempFolder();
        var ex = Assert.Throws<ModelFormatException>(() => ImageProcessorConfig.FromModelFolder(folder.Path));
        Assert.Contains(ImageProcessorConfig.FileName, ex.Message, StringComparison.Ordinal);
    }
}
