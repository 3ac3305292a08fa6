using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// VLM2Vec as a Microsoft.Extensions.AI embedding generator: text, images and instruction + image + text items in, one
/// L2-normalised vector each out, over any <see cref="IVlm2VecEncoder"/> (ONNX Runtime, TorchSharp).
/// </summary>
/// <remarks>
/// <para>Inputs: <see cref="string"/> and <see cref="TextContent"/> (text), <see cref="DataContent"/> with an
/// <c>image/*</c> media type (encoded image bytes), <see cref="UriContent"/> of an image (<c>file:</c>; <c>http(s):</c>
/// only with <see cref="Vlm2VecEmbeddingGeneratorOptions.AllowRemoteImages"/>) and <see cref="Vlm2VecContent"/> (several
/// parts with an instruction). Through contravariance the generator is also an
/// <c>IEmbeddingGenerator&lt;DataContent, Embedding&lt;float&gt;&gt;</c>, <c>&lt;TextContent, …&gt;</c> and
/// <c>&lt;UriContent, …&gt;</c>.</para>
/// <para>Instruction, side and MMEB preset come, in this order, from <see cref="Vlm2VecContent"/>'s properties, the
/// item's <see cref="AIContent.AdditionalProperties"/>, the call's
/// <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> (keys in <see cref="Vlm2VecPropertyNames"/>), and the
/// generator's <see cref="Vlm2VecEmbeddingGeneratorOptions.DefaultRole"/> and
/// <see cref="Vlm2VecEmbeddingGeneratorOptions.DefaultInstructions"/>.</para>
/// <para>All items of a call are embedded together: the <see cref="Vlm2VecEmbedder"/> preprocesses them in parallel
/// and groups them into encoder batches by length; results are in input order. <see cref="GeneratedEmbeddings{T}.Usage"/>
/// counts the tokens the model saw (image tokens included). <see cref="EmbeddingGenerationOptions.Dimensions"/> is refused
/// unless it is the model's own dimension: VLM2Vec was not trained for truncated (Matryoshka) embeddings.</para>
/// <para>Bad items: by default the call fails with a <see cref="BatchItemException"/> whose
/// <see cref="BatchItemException.ItemIndex"/> is the item's position in the values this generator received (behind a
/// cache, in the values the cache forwarded); with <see cref="Vlm2VecItemErrorMode.ReturnEmpty"/> the good items are
/// returned and each bad one gets an empty embedding carrying its error.</para>
/// <para>Thread-safe. <see cref="IEmbeddingGenerator.GetService"/> exposes the metadata, this generator, the
/// <see cref="Vlm2VecEmbedder"/>, the <see cref="IVlm2VecEncoder"/>, its <see cref="Vlm2VecPreprocessor"/> and
/// <see cref="Vlm2VecModelInfo"/>.</para>
/// </remarks>
public sealed class Vlm2VecEmbeddingGenerator : IEmbeddingGenerator<AIContent, Embedding<float>>, IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name in <see cref="EmbeddingGeneratorMetadata.ProviderName"/> (and OpenTelemetry's <c>gen_ai.provider.name</c>).</summary>
    public const string ProviderName = "vlm2vec";

    private readonly Vlm2VecEmbeddingGeneratorOptions _options;
    private readonly ContentTranslator _translator;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly bool _ownsEncoder;
    private int _disposed;

    /// <summary>Creates a generator over an encoder, with its own <see cref="Vlm2VecEmbedder"/> (batching from <paramref name="options"/>).</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="options">The settings (the model group is ignored: the encoder brings its preprocessing).</param>
    /// <param name="loggerFactory">Where the generator and its embedder log.</param>
    /// <param name="ownsEncoder">Whether disposing the generator disposes the encoder.</param>
    public Vlm2VecEmbeddingGenerator(
        IVlm2VecEncoder encoder, Vlm2VecEmbeddingGeneratorOptions? options = null, ILoggerFactory? loggerFactory = null, bool ownsEncoder = false)
        : this(
            new Vlm2VecEmbedder(
                encoder ?? throw new ArgumentNullException(nameof(encoder)),
                (options ?? new Vlm2VecEmbeddingGeneratorOptions()).ToEmbedderOptions(),
                loggerFactory?.CreateLogger<Vlm2VecEmbedder>()),
            options,
            loggerFactory,
            ownsEncoder,
            TimeProvider.System)
    {
    }

    /// <summary>Creates a generator over an embedder (which keeps its own batching settings).</summary>
    /// <param name="embedder">The embedder; the generator does not dispose its encoder.</param>
    /// <param name="options">The settings (only the inputs group applies).</param>
    /// <param name="loggerFactory">Where the generator logs.</param>
    public Vlm2VecEmbeddingGenerator(Vlm2VecEmbedder embedder, Vlm2VecEmbeddingGeneratorOptions? options = null, ILoggerFactory? loggerFactory = null)
        : this(embedder, options, loggerFactory, ownsEncoder: false, TimeProvider.System)
    {
    }

    internal Vlm2VecEmbeddingGenerator(
        Vlm2VecEmbedder embedder, Vlm2VecEmbeddingGeneratorOptions? options, ILoggerFactory? loggerFactory, bool ownsEncoder, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        _options = (options ?? new Vlm2VecEmbeddingGeneratorOptions()).Clone();
        Embedder = embedder;
        _ownsEncoder = ownsEncoder;
        _time = time;
        _logger = loggerFactory?.CreateLogger<Vlm2VecEmbeddingGenerator>() ?? NullLogger<Vlm2VecEmbeddingGenerator>.Instance;
        _translator = new ContentTranslator(_options, embedder.Preprocessor.Options.ImageLimits.MaxEncodedBytes);
        var info = embedder.Encoder.Info;
        ModelId = string.IsNullOrEmpty(_options.ModelId) ? info.ModelId : _options.ModelId;
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, defaultModelId: ModelId, defaultModelDimensions: info.Dimension);
        CacheIdentity = string.Join(
            '|', ProviderName, info.ModelId, info.Dimension.ToString(System.Globalization.CultureInfo.InvariantCulture), info.Architecture, info.DType,
            embedder.Preprocessor.Options.ToString());
    }

    /// <summary>The generator's metadata: provider <c>vlm2vec</c>, the model id and dimension.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>The model id put on embeddings.</summary>
    public string ModelId { get; }

    /// <summary>The embedding dimension.</summary>
    public int Dimensions => Embedder.Encoder.Info.Dimension;

    /// <summary>The embedder (preprocessing, batching, encoder).</summary>
    public Vlm2VecEmbedder Embedder { get; }

    /// <summary>
    /// What decides a vector besides the input: model, dimension, dtype and preprocessing settings. Caches should add it to
    /// their keys (<c>UseVlm2VecDistributedCache</c> does) so that a changed model never reuses stale entries.
    /// </summary>
    public string CacheIdentity { get; }

    /// <summary>
    /// Opens a model with an engine's factory and wraps it. The generator owns the encoder. Uses the model group of
    /// <paramref name="options"/> (<see cref="Vlm2VecEmbeddingGeneratorOptions.ModelPath"/> is required).
    /// </summary>
    /// <exception cref="ArgumentException">No model path is set.</exception>
    public static Vlm2VecEmbeddingGenerator Open(IVlm2VecEncoderFactory factory, Vlm2VecEmbeddingGeneratorOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(options);
        return Open([factory], options, loggerFactory);
    }

    /// <summary>Opens a model with the engine named by <see cref="Vlm2VecEmbeddingGeneratorOptions.Engine"/>, or the first that can open it.</summary>
    /// <exception cref="ArgumentException">No model path is set.</exception>
    /// <exception cref="InvalidOperationException">No given engine can open the model (the message lists the engines).</exception>
    public static Vlm2VecEmbeddingGenerator Open(IEnumerable<IVlm2VecEncoderFactory> factories, Vlm2VecEmbeddingGeneratorOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(factories);
        ArgumentNullException.ThrowIfNull(options);
        var factory = EncoderFactorySelector.Select(factories, options);
        var encoder = factory.Create(new Vlm2VecEncoderOptions
        {
            ModelPath = options.ModelPath!,
            Device = options.Device,
            Preprocessing = options.ToPreprocessorOptions(),
            LoggerFactory = loggerFactory,
        });
        try
        {
            return new Vlm2VecEmbeddingGenerator(encoder, options, loggerFactory, ownsEncoder: true);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A Microsoft.Extensions.AI builder over the <see cref="AIContent"/> interface, to add middleware
    /// (<c>UseVlm2VecDistributedCache</c>, <c>UseLogging</c>, <c>UseOpenTelemetry</c>). The generic <c>AsBuilder()</c>
    /// extension cannot infer the input type of a generator that implements two.
    /// </summary>
    public EmbeddingGeneratorBuilder<AIContent, Embedding<float>> AsBuilder() => new(this);

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<AIContent> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        CheckOptions(options);
        var items = values as IReadOnlyList<AIContent> ?? [.. values];
        var translated = await _translator.TranslateAsync(items, options, cancellationToken).ConfigureAwait(false);
        return await EmbedAsync(translated, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var contents = new List<AIContent>();
        foreach (var value in values)
        {
            contents.Add(new TextContent(value));
        }

        return GenerateAsync(contents, options, cancellationToken);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return Metadata;
        }

        if (serviceType.IsInstanceOfType(this))
        {
            return this;
        }

        if (serviceType == typeof(Vlm2VecEmbedder))
        {
            return Embedder;
        }

        if (serviceType == typeof(Vlm2VecPreprocessor))
        {
            return Embedder.Preprocessor;
        }

        if (serviceType == typeof(Vlm2VecModelInfo))
        {
            return Embedder.Encoder.Info;
        }

        return serviceType.IsInstanceOfType(Embedder.Encoder) ? Embedder.Encoder : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _ownsEncoder)
        {
            Embedder.Encoder.Dispose();
        }
    }

    private void CheckOptions(EmbeddingGenerationOptions? options)
    {
        if (options is null)
        {
            return;
        }

        if (options.Dimensions is int dimensions && dimensions != Dimensions)
        {
            throw new NotSupportedException(
                $"{ModelId} produces {Dimensions}-dimensional embeddings and was not trained for truncated (Matryoshka) embeddings; " +
                $"EmbeddingGenerationOptions.Dimensions must be null or {Dimensions}, not {dimensions}.");
        }

        if (!string.IsNullOrEmpty(options.ModelId) && !string.Equals(options.ModelId, ModelId, StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException(
                $"This generator serves '{ModelId}' only; EmbeddingGenerationOptions.ModelId '{options.ModelId}' cannot be honoured (leave it null or set it to '{ModelId}').");
        }
    }

    private async Task<GeneratedEmbeddings<Embedding<float>>> EmbedAsync(ItemTranslation[] translated, CancellationToken cancellationToken)
    {
        var failures = new Exception?[translated.Length];
        var inputs = new List<MultimodalInput>(translated.Length);
        var positions = new List<int>(translated.Length);
        for (var i = 0; i < translated.Length; i++)
        {
            if (translated[i].Error is { } error)
            {
                if (_options.ItemErrors == Vlm2VecItemErrorMode.Throw)
                {
                    // Found before the model runs: nothing is embedded.
                    throw new BatchItemException(i, error);
                }

                failures[i] = error;
            }
            else
            {
                inputs.Add(translated[i].Input!);
                positions.Add(i);
            }
        }

        // EmbedEachAsync (rather than the fail-fast EmbedAsync) because it reports each input's token count for Usage;
        // in Throw mode a model-side failure still fails the call below, after the batch.
        var results = inputs.Count == 0 ? [] : await Embedder.EmbedEachAsync(inputs, cancellationToken).ConfigureAwait(false);
        var vectors = new float[translated.Length][];
        long tokens = 0;
        for (var k = 0; k < results.Count; k++)
        {
            var result = results[k];
            var index = positions[k];
            if (result.Error is { } error)
            {
                if (_options.ItemErrors == Vlm2VecItemErrorMode.Throw)
                {
                    throw new BatchItemException(index, error.InnerException ?? error);
                }

                failures[index] = error.InnerException ?? error;
            }
            else
            {
                vectors[index] = result.Embedding!;
                tokens += result.TokenCount;
            }
        }

        var createdAt = _time.GetUtcNow();
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(translated.Length)
        {
            Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens },
        };
        for (var i = 0; i < translated.Length; i++)
        {
            if (failures[i] is { } failure)
            {
                Vlm2VecGeneratorLog.ItemFailed(_logger, i, failure.Message);
                embeddings.Add(new Embedding<float>(ReadOnlyMemory<float>.Empty)
                {
                    ModelId = ModelId,
                    CreatedAt = createdAt,
                    AdditionalProperties = new AdditionalPropertiesDictionary
                    {
                        [Vlm2VecPropertyNames.Error] = $"Item {i}: {failure.Message}",
                        [Vlm2VecPropertyNames.ErrorType] = failure.GetType().Name,
                    },
                });
            }
            else
            {
                embeddings.Add(new Embedding<float>(vectors[i]) { ModelId = ModelId, CreatedAt = createdAt });
            }
        }

        return embeddings;
    }
}
