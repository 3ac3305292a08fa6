using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec;

/// <summary>
/// The preprocessing every input takes before an encoder: prompt formatting, image decoding and the Qwen2-VL image
/// processor, tokenisation with placeholder expansion, the token limit, and collation. Training and serving share it,
/// so a model never sees different preprocessing at train and serve time. Thread-safe.
/// </summary>
/// <remarks>
/// <see cref="Prepare(MultimodalInput)"/> runs: validate → format (spec §1.2) → read, decode and process each image →
/// tokenise (special tokens first) → expand the k-th image placeholder to image k's <c>t·h·w / merge²</c> tokens
/// (spec §3.4; stray placeholders of image-less inputs stay single ordinary tokens) → apply the token limit (never
/// inside an image run). Every failure is typed: <see cref="InvalidInputException"/>, <see cref="ImageDecodeException"/>,
/// <see cref="InputTooLongException"/>.
/// </remarks>
public sealed class Vlm2VecPreprocessor
{
    private readonly IImagePipeline _images;
    private readonly ILogger _logger;
    private readonly int _imageTokenId;
    private readonly int _mergeSize;

    /// <summary>Builds the preprocessing from its parts.</summary>
    /// <param name="config">The model config: special-token ids and the vision merge size.</param>
    /// <param name="tokenizer">The model's tokenizer; it must spell the config's image token id.</param>
    /// <param name="imageProcessorConfig">The image processor settings (<c>preprocessor_config.json</c>).</param>
    /// <param name="options">Prompt style, token limit, image limits and image-processor options, padding side.</param>
    /// <param name="logger">Receives truncation warnings; none by default.</param>
    /// <exception cref="ModelFormatException">The tokenizer and the config do not fit together.</exception>
    public Vlm2VecPreprocessor(
        Qwen2VlConfig config, Qwen2Tokenizer tokenizer, ImageProcessorConfig imageProcessorConfig, PreprocessorOptions? options = null, ILogger? logger = null)
        : this(config, tokenizer, Qwen2VlImagePipeline.Create(imageProcessorConfig, options ?? new PreprocessorOptions(), config), options, logger)
    {
    }

    /// <summary>Builds the preprocessing with an image stage of the caller's choice (tests, other image processors).</summary>
    internal Vlm2VecPreprocessor(Qwen2VlConfig config, Qwen2Tokenizer tokenizer, IImagePipeline images, PreprocessorOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(images);
        Options = options ?? new PreprocessorOptions();
        Config = config;
        Tokenizer = tokenizer;
        _images = images;
        _logger = logger ?? NullLogger.Instance;
        _imageTokenId = config.ImageTokenId;
        _mergeSize = config.Vision.SpatialMergeSize;

        var imagePlaceholder = tokenizer.IdToToken(config.ImageTokenId);
        if (imagePlaceholder is null || !tokenizer.IsSpecialToken(config.ImageTokenId))
        {
            throw new ModelFormatException(
                $"The tokenizer has no special token with the config's image_token_id {config.ImageTokenId}; the tokenizer and config.json do not belong to the same model.");
        }

        var videoPlaceholder = tokenizer.IsSpecialToken(config.VideoTokenId) ? tokenizer.IdToToken(config.VideoTokenId) : null;
        Formatter = new PromptFormatter(new PromptFormatterOptions
        {
            ImagePlaceholder = imagePlaceholder,
            VideoPlaceholder = videoPlaceholder,
            Style = Options.PromptStyle,
        });

        var padId = tokenizer.PadTokenId ?? config.PadTokenId ?? config.BosTokenId
            ?? throw new ModelFormatException("Neither tokenizer_config.json (pad_token) nor config.json (pad_token_id, bos_token_id) names a padding token.");
        Collator = new BatchCollator(BatchCollatorOptions.FromConfig(config, padId, Options.Padding ?? tokenizer.PaddingSide ?? PaddingSide.Left));

        var limit = Options.MaxTokens ?? Math.Min(tokenizer.ModelMaxLength ?? int.MaxValue, config.MaxPositionEmbeddings);
        if (limit <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxTokens must be positive, not {limit}.");
        }

        MaxTokens = limit;
    }

    /// <summary>The model config the special-token ids come from.</summary>
    public Qwen2VlConfig Config { get; }

    /// <summary>The tokenizer.</summary>
    public Qwen2Tokenizer Tokenizer { get; }

    /// <summary>The settings.</summary>
    public PreprocessorOptions Options { get; }

    /// <summary>The prompt formatter (placeholder spelled by the tokenizer).</summary>
    public PromptFormatter Formatter { get; }

    /// <summary>The batch collator (ids from the config and tokenizer).</summary>
    public BatchCollator Collator { get; }

    /// <summary>The effective token limit per input.</summary>
    public int MaxTokens { get; }

    /// <summary>
    /// Loads the preprocessing of a model folder: <c>config.json</c>, <c>tokenizer.json</c> (or <c>vocab.json</c> +
    /// <c>merges.txt</c>), <c>tokenizer_config.json</c> and <c>preprocessor_config.json</c>.
    /// </summary>
    /// <exception cref="ModelFormatException">A file is missing or unusable, or the files do not fit together.</exception>
    public static Vlm2VecPreprocessor FromFolder(string folder, PreprocessorOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Model folder '{folder}' does not exist.");
        }

        var config = Qwen2VlConfig.Load(Path.Combine(folder, "config.json"));
        var tokenizer = Qwen2Tokenizer.FromFolder(folder);
        var imageProcessor = ImageProcessorConfig.FromModelFolder(folder);
        return new Vlm2VecPreprocessor(config, tokenizer, imageProcessor, options, logger);
    }

    /// <summary>
    /// The same model's preprocessing (config, tokenizer, image processor settings) with other options: limits, token
    /// budget, truncation policy. A server uses it to apply its own request limits to an encoder's preprocessing.
    /// </summary>
    /// <exception cref="InvalidOperationException">This preprocessor was built with a custom image stage.</exception>
    public Vlm2VecPreprocessor WithOptions(PreprocessorOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_images is not Qwen2VlImagePipeline qwen)
        {
            throw new InvalidOperationException("WithOptions needs the Qwen2-VL image stage; this preprocessor was built with a custom one.");
        }

        return new Vlm2VecPreprocessor(Config, Tokenizer, qwen.Processor.Config, options, logger ?? _logger);
    }

    /// <summary>The model string of an input (spec §1.2), before placeholder expansion.</summary>
    /// <exception cref="InvalidInputException">The input is invalid or its placeholders do not match its images.</exception>
    public string FormatPrompt(MultimodalInput input) => Formatter.Format(input);

    /// <summary>Prepares one input for collation.</summary>
    /// <exception cref="InvalidInputException">Nothing to embed, or placeholders that do not match the images.</exception>
    /// <exception cref="ImageDecodeException">An image cannot be read or decoded, or breaks a limit.</exception>
    /// <exception cref="InputTooLongException">Over the token limit with <see cref="TruncationPolicy.Refuse"/>, or image tokens alone over it.</exception>
    public PreparedInput Prepare(MultimodalInput input) => Prepare(input, "The input");

    /// <summary>Collates prepared inputs, in order, into one padded batch.</summary>
    /// <exception cref="BatchItemException">A row cannot be collated; its index is given.</exception>
    public CollatedBatch Collate(IReadOnlyList<PreparedInput> inputs) => Collator.Collate(inputs);

    /// <summary>Prepares one input; <paramref name="name"/> names it in log messages and errors ("Input 3").</summary>
    internal PreparedInput Prepare(MultimodalInput input, string name)
    {
        var formatted = Formatter.FormatDetailed(input);
        var images = formatted.ImageCount == 0 ? [] : new ProcessedImage[formatted.ImageCount];
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = _images.Process(input.Images[i]);
        }

        var ids = Tokenizer.Encode(formatted.Text);
        var placeholders = ids.AsSpan().Count(_imageTokenId);
        if (placeholders != formatted.ImageCount + formatted.StrayPlaceholderCount)
        {
            // Only possible when the text itself spells the placeholder in a way the formatter did not count.
            throw new InvalidInputException(
                $"{name} tokenises to {placeholders} image-placeholder token(s) but has {formatted.ImageCount} image(s) and {formatted.StrayPlaceholderCount} stray placeholder(s).");
        }

        var expanded = images.Length == 0 ? ids : Expand(ids, images);
        var limited = TokenBudget.Apply(expanded, _imageTokenId, images.Length > 0, MaxTokens, Options.Truncation, _logger, name, out var truncated);
        return new PreparedInput(limited, images, formatted.Text, truncated);
    }

    private int[] Expand(int[] ids, ProcessedImage[] images)
    {
        var total = ids.Length - images.Length;
        foreach (var image in images)
        {
            if (image.GridH % _mergeSize != 0 || image.GridW % _mergeSize != 0)
            {
                throw new InvalidInputException(
                    $"Image grid ({image.GridT}, {image.GridH}, {image.GridW}) is not a multiple of the merge size {_mergeSize}; the image processor and config.json disagree.");
            }

            total = checked(total + image.TokenCount(_mergeSize));
        }

        var result = new int[total];
        var written = 0;
        var next = 0;
        foreach (var id in ids)
        {
            if (id == _imageTokenId)
            {
                var count = images[next++].TokenCount(_mergeSize);
                result.AsSpan(written, count).Fill(_imageTokenId);
                written += count;
            }
            else
            {
                result[written++] = id;
            }
        }

        return result;
    }
}
