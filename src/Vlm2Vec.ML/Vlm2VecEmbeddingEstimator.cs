using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Vlm2Vec.ML;

/// <summary>
/// The estimator of <see cref="Vlm2VecCatalog.EmbedWithVlm2Vec(TransformsCatalog, Vlm2VecEmbeddingOptions)"/>. Nothing
/// is learned: <see cref="Fit"/> checks the input columns, opens the model (once per process, shared) to learn its
/// dimension, and returns the <see cref="Vlm2VecEmbeddingTransformer"/>.
/// </summary>
public sealed class Vlm2VecEmbeddingEstimator : IEstimator<Vlm2VecEmbeddingTransformer>
{
    private readonly TransformsCatalog _transforms;
    private readonly IHost _host;
    private readonly Vlm2VecEmbeddingOptions _options;
    private readonly string? _modelPath;
    private readonly string? _factoryType;
    private readonly string? _device;
    private readonly bool _fallbackToCpu;

    internal Vlm2VecEmbeddingEstimator(TransformsCatalog transforms, Vlm2VecEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.OutputColumnName))
        {
            throw new ArgumentException("Vlm2VecEmbeddingOptions.OutputColumnName is empty: name the embedding column.", nameof(options));
        }

        if (options.ImageColumnName is null && options.TextColumnName is null)
        {
            throw new ArgumentException(
                "Vlm2VecEmbeddingOptions names neither an image column nor a text column: set ImageColumnName (Vector<Byte> from LoadRawImageBytes, or String paths), " +
                "TextColumnName (String), or both.",
                nameof(options));
        }

        if ((options.ModelPath is null) == (options.Encoder is null))
        {
            throw new ArgumentException(
                options.Encoder is null
                    ? "Vlm2VecEmbeddingOptions names no model: set ModelPath (a model bundle or Hugging Face checkpoint folder) or Encoder."
                    : "Vlm2VecEmbeddingOptions sets both ModelPath and Encoder: set one.",
                nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options));
        _transforms = transforms;
        var environment = HostEnvironments.Of(transforms);
        _host = environment.Register("Vlm2VecEmbedding");
        _options = options;
        if (options.ModelPath is not null)
        {
            _modelPath = Path.GetFullPath(options.ModelPath);
            _factoryType = options.EncoderFactory is { } factory ? EncoderFactoryResolver.NameOf(factory) : EncoderFactoryResolver.ForFolder(_modelPath);
            _device = options.Device ?? (HostEnvironments.GpuDeviceId(environment) is int gpu ? $"cuda:{gpu}" : null);
            _fallbackToCpu = options.Device is null && HostEnvironments.FallbackToCpu(environment);
        }
    }

    /// <summary>Checks the input, opens the model and returns the transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type.</exception>
    /// <exception cref="ModelFormatException">The model folder cannot be opened.</exception>
    public Vlm2VecEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var kind = ColumnChecks.Check(input.Schema, _options.ImageColumnName, _options.TextColumnName, _options.InstructionColumnName, nameof(input));
        var spec = Spec(kind);
        var json = spec.ToJson();
        var saveable = SaveableChain.Create(_transforms, spec, json).Fit(input);
        using (var channel = _host.Start("Fit"))
        {
            channel.Info(MessageSensitivity.None, $"Vlm2Vec model '{spec.ModelId}' (dimension {spec.Dimension}) embeds into column '{spec.OutputColumn}'.");
        }

        return new Vlm2VecEmbeddingTransformer(_host, spec, json, saveable, _options.Encoder, _options.EncoderFactory, _options.BatchSize, NotSaveableReason());
    }

    /// <summary>The input columns plus the embedding column (a known-size vector of Single).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var kind = ColumnChecks.Check(inputSchema, _options.ImageColumnName, _options.TextColumnName, _options.InstructionColumnName, nameof(inputSchema));
        var spec = Spec(kind);
        return SaveableChain.Create(_transforms, spec, spec.ToJson()).GetOutputSchema(inputSchema);
    }

    /// <summary>
    /// The output shape of an embedding step over a model of <paramref name="dimension"/> that does not exist yet (the
    /// fine-tuning estimator's output, before training): checks the columns the same way and opens nothing.
    /// </summary>
    internal static SchemaShape OutputShape(TransformsCatalog transforms, Vlm2VecEmbeddingOptions options, SchemaShape inputSchema, int dimension)
    {
        var kind = ColumnChecks.Check(inputSchema, options.ImageColumnName, options.TextColumnName, options.InstructionColumnName, nameof(inputSchema));
        var spec = new EmbeddingSpec
        {
            Dimension = dimension,
            Image = kind,
            ImageColumn = options.ImageColumnName,
            TextColumn = options.TextColumnName,
            InstructionColumn = options.InstructionColumnName,
            OutputColumn = options.OutputColumnName,
        };
        return SaveableChain.Create(transforms, spec, spec.ToJson()).GetOutputSchema(inputSchema);
    }

    private EmbeddingSpec Spec(ImageSourceKind kind)
    {
        var spec = new EmbeddingSpec
        {
            ModelPath = _modelPath,
            EncoderFactoryType = _factoryType,
            EncoderInstanceKey = _options.Encoder is { } encoder ? ModelSessions.RegisterInstance(encoder) : null,
            Device = _device,
            FallbackToCpu = _fallbackToCpu,
            Preprocessing = _options.Preprocessing,
            Batching = _options.Batching,
            Image = kind,
            ImageColumn = _options.ImageColumnName,
            ImageFolder = _options.ImageFolder is null ? null : Path.GetFullPath(_options.ImageFolder),
            TextColumn = _options.TextColumnName,
            InstructionColumn = _options.InstructionColumnName,
            Instruction = _options.Instruction,
            Role = _options.Role,
            OutputColumn = _options.OutputColumnName,
            RowErrors = _options.RowErrors,
            BatchSize = _options.BatchSize,
        };
        var opened = ModelSessions.Encoder(spec, _options.EncoderFactory, new HostLoggerFactory(_host));
        return spec with { Dimension = opened.Info.Dimension, ModelId = opened.Info.ModelId };
    }

    private string? NotSaveableReason()
    {
        if (_options.Encoder is not null)
        {
            return "This Vlm2Vec transformer wraps an encoder object, which cannot be stored in an ML.NET model: build it with " +
                "Vlm2VecEmbeddingOptions.ModelPath (the folder is recorded and reopened when the model is loaded) to save it.";
        }

        if (_options.EncoderFactory is { } factory && !EncoderFactoryResolver.CanRecreate(factory))
        {
            return $"The engine {factory.GetType().FullName} cannot be recreated when the model is loaded (it needs to be a public type with a public constructor " +
                "callable without arguments), so this Vlm2Vec transformer cannot be saved.";
        }

        return null;
    }
}
