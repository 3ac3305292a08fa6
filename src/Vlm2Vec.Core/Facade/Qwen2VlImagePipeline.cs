namespace Vlm2Vec.Preprocessing;

/// <summary>The Qwen2-VL image stage: <see cref="ImageDecoder"/> under the configured limits, then <see cref="Qwen2VlImageProcessor"/>.</summary>
internal sealed class Qwen2VlImagePipeline : IImagePipeline
{
    private readonly ImageLimits _limits;

    private Qwen2VlImagePipeline(Qwen2VlImageProcessor processor, ImageLimits limits)
    {
        Processor = processor;
        _limits = limits;
    }

    /// <summary>The image processor.</summary>
    internal Qwen2VlImageProcessor Processor { get; }

    /// <summary>Builds the stage and checks that the image processor's geometry is the model's.</summary>
    /// <exception cref="ModelFormatException">Merge size, patch size or patch-row length differ between preprocessor_config.json and config.json.</exception>
    internal static Qwen2VlImagePipeline Create(ImageProcessorConfig config, PreprocessorOptions options, Qwen2VlConfig model)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        options.ImageLimits.Validate();
        if (config.MergeSize != model.Vision.SpatialMergeSize || config.PatchSize != model.Vision.PatchSize
            || config.TemporalPatchSize != model.Vision.TemporalPatchSize || config.PatchRowLength != model.Vision.PatchRowLength)
        {
            throw new ModelFormatException(
                $"preprocessor_config.json (merge {config.MergeSize}, patch {config.PatchSize}, temporal {config.TemporalPatchSize}) does not match " +
                $"config.json's vision_config (merge {model.Vision.SpatialMergeSize}, patch {model.Vision.PatchSize}, temporal {model.Vision.TemporalPatchSize}, {model.Vision.InChannels} channels).");
        }

        return new Qwen2VlImagePipeline(new Qwen2VlImageProcessor(config, options.ImageProcessor), options.ImageLimits);
    }

    /// <inheritdoc />
    public ProcessedImage Process(ImageInput image) => Processor.Process(ImageDecoder.Decode(image, _limits));
}
