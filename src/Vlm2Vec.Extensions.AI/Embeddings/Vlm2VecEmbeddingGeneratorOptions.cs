using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// Settings of a <see cref="Vlm2VecEmbeddingGenerator"/>, bindable from configuration (for example the
/// <c>"Vlm2Vec"</c> section of <c>appsettings.json</c>).
/// </summary>
/// <remarks>
/// Three groups: <b>model</b> (<see cref="ModelPath"/>, <see cref="Engine"/>, <see cref="Device"/> and the preprocessing
/// limits) is used when the generator opens the model through an <see cref="IVlm2VecEncoderFactory"/> (dependency
/// injection, <c>Vlm2VecEmbeddingGenerator.Open</c>) and ignored for an encoder you pass in, which brings its own
/// preprocessing; <b>batching</b> applies when the generator builds its <see cref="Vlm2VecEmbedder"/>; <b>inputs</b>
/// always applies.
/// </remarks>
public sealed class Vlm2VecEmbeddingGeneratorOptions
{
    /// <summary>The configuration section name used by the examples (<c>"Vlm2Vec"</c>).</summary>
    public const string DefaultSectionName = "Vlm2Vec";

    /// <summary>Model: the model folder (a bundle or checkpoint) or file an engine opens.</summary>
    public string? ModelPath { get; set; }

    /// <summary>Model: the engine to open it with (<see cref="IVlm2VecEncoderFactory.Engine"/>); null: the first registered engine that can open <see cref="ModelPath"/>.</summary>
    public string? Engine { get; set; }

    /// <summary>Model: the device, in the engine's words (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>); null: the engine's choice.</summary>
    public string? Device { get; set; }

    /// <summary>Model: the prompt layout (default <see cref="Vlm2Vec.PromptStyle.V1"/>, MMEB's strings).</summary>
    public PromptStyle PromptStyle { get; set; } = PromptStyle.V1;

    /// <summary>Model: most tokens per input; null: the tokenizer's and model's limit.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Model: what happens to a longer input (default: cut the end of its text with a logged warning).</summary>
    public TruncationPolicy Truncation { get; set; } = TruncationPolicy.TruncateText;

    /// <summary>Model: largest encoded image in bytes (default 64 MiB); also the cap on a downloaded image.</summary>
    public long MaxImageBytes { get; set; } = ImageLimits.Default.MaxEncodedBytes;

    /// <summary>Model: largest image canvas in pixels, checked before decoding (default Pillow's 89,478,485).</summary>
    public long MaxImagePixels { get; set; } = ImageLimits.Default.MaxPixels;

    /// <summary>
    /// Model: how images are fed to the image processor: <c>Vlm2VecV1</c> (the V1 Qwen2-VL models: 1344² square
    /// pre-resize), <c>Vlm2VecV2</c> (VLM2Vec-V2.0: at most 1,280 tokens per image), <c>HuggingFace</c>, or null (default:
    /// VLM2Vec's rules with the model's pixel budget). See <see cref="Qwen2VlImageProcessorOptions"/>.
    /// </summary>
    public string? ImageProcessorPreset { get; set; }

    /// <summary>Model: image-processor pixel budget override (<c>min_pixels</c>); null keeps the model's.</summary>
    public long? MinImageProcessorPixels { get; set; }

    /// <summary>Model: image-processor pixel budget override (<c>max_pixels</c>, which bounds image tokens); null keeps the model's.</summary>
    public long? MaxImageProcessorPixels { get; set; }

    /// <summary>Batching: most inputs per encoder batch (default 16).</summary>
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>Batching: most padded token cells per encoder batch (default 16,384).</summary>
    public int MaxBatchTokens { get; set; } = 16_384;

    /// <summary>Batching: most image patch rows per encoder batch (default 32,768).</summary>
    public int MaxBatchPatches { get; set; } = 32_768;

    /// <summary>Inputs: the model id reported in metadata and on embeddings; null: the model's own.</summary>
    public string? ModelId { get; set; }

    /// <summary>Inputs: the side of items that name none (default <see cref="EmbeddingRole.Query"/>).</summary>
    public EmbeddingRole DefaultRole { get; set; } = EmbeddingRole.Query;

    /// <summary>Inputs: the instructions of items that name neither an instruction nor a preset.</summary>
    public Vlm2VecDefaultInstructions DefaultInstructions { get; set; } = new();

    /// <summary>Inputs: whether <c>file:</c> URIs (<see cref="Microsoft.Extensions.AI.UriContent"/>) are read (default true).</summary>
    public bool AllowFileUris { get; set; } = true;

    /// <summary>
    /// Inputs: whether <c>http:</c>/<c>https:</c> image URIs are downloaded (default false: refused, because a caller's
    /// URI would make this process fetch from the network). Downloads are capped at <see cref="MaxImageBytes"/>.
    /// </summary>
    public bool AllowRemoteImages { get; set; }

    /// <summary>Inputs: the client remote images are downloaded with; null: a shared one. Not bound from configuration.</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>Inputs: what a call with bad items does (default: fail the call, naming the item).</summary>
    public Vlm2VecItemErrorMode ItemErrors { get; set; } = Vlm2VecItemErrorMode.Throw;

    /// <summary>The preprocessing settings of the model group.</summary>
    public PreprocessorOptions ToPreprocessorOptions() => new()
    {
        PromptStyle = PromptStyle,
        MaxTokens = MaxTokens,
        Truncation = Truncation,
        ImageLimits = new ImageLimits { MaxEncodedBytes = MaxImageBytes, MaxPixels = MaxImagePixels },
        ImageProcessor = ImageProcessorOptions(),
    };

    private Qwen2VlImageProcessorOptions ImageProcessorOptions()
    {
        var preset = ImageProcessorPreset?.Replace("-", string.Empty, StringComparison.Ordinal).ToUpperInvariant() switch
        {
            null or "" => new Qwen2VlImageProcessorOptions(),
            "VLM2VECV1" => Qwen2VlImageProcessorOptions.Vlm2VecV1,
            "VLM2VECV2" => Qwen2VlImageProcessorOptions.Vlm2VecV2,
            "VLM2VECV1INV2" => Qwen2VlImageProcessorOptions.Vlm2VecV1InV2,
            "HUGGINGFACE" => Qwen2VlImageProcessorOptions.HuggingFace,
            _ => throw new ArgumentException(
                $"ImageProcessorPreset '{ImageProcessorPreset}' is not known; use Vlm2VecV1, Vlm2VecV2, Vlm2VecV1InV2, HuggingFace or leave it empty.",
                nameof(ImageProcessorPreset)),
        };
        return preset with
        {
            MinPixels = MinImageProcessorPixels ?? preset.MinPixels,
            MaxPixels = MaxImageProcessorPixels ?? preset.MaxPixels,
        };
    }

    /// <summary>The batching settings.</summary>
    public EmbedderOptions ToEmbedderOptions() => new()
    {
        MaxBatchSize = MaxBatchSize,
        MaxBatchTokens = MaxBatchTokens,
        MaxBatchPatches = MaxBatchPatches,
    };

    /// <summary>A copy (the default instructions are copied too; the HTTP client is shared).</summary>
    public Vlm2VecEmbeddingGeneratorOptions Clone()
    {
        var copy = (Vlm2VecEmbeddingGeneratorOptions)MemberwiseClone();
        copy.DefaultInstructions = new Vlm2VecDefaultInstructions
        {
            TextQuery = DefaultInstructions.TextQuery,
            ImageQuery = DefaultInstructions.ImageQuery,
            ImageWithTextQuery = DefaultInstructions.ImageWithTextQuery,
            TextTarget = DefaultInstructions.TextTarget,
            ImageTarget = DefaultInstructions.ImageTarget,
            ImageWithTextTarget = DefaultInstructions.ImageWithTextTarget,
        };
        return copy;
    }
}
