using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Modeling;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp;

/// <summary>
/// An <see cref="IVlm2VecEncoder"/> on the TorchSharp Qwen2-VL model (CPU): a collated batch in, one pooled,
/// L2-normalised float32 vector per row out. Runs under <c>torch.inference_mode()</c>.
/// </summary>
/// <remarks>
/// Thread-safe by serialisation: calls on one encoder run one at a time under a lock (libtorch already spreads each
/// forward over the CPU cores, so concurrent forwards would only compete for them). Create one encoder per model and
/// share it. The encoder owns the model and disposes it.
/// </remarks>
public sealed class TorchSharpVlm2VecEncoder : IVlm2VecEncoder
{
    private readonly Lock _gate = new();
    private readonly Qwen2VlForConditionalGeneration _model;
    private readonly Vlm2VecPreprocessor? _preprocessor;
    private bool _disposed;

    /// <summary>Wraps a loaded model and the preprocessing that belongs to it; the encoder takes ownership of the model.</summary>
    /// <param name="model">The model (eval mode is set).</param>
    /// <param name="preprocessor">The preprocessing of the same model (its config must name the same special tokens).</param>
    /// <param name="modelId">A name for <see cref="Info"/>; defaults to <c>qwen2-vl</c>.</param>
    /// <param name="source">Where the model came from, for <see cref="Info"/>.</param>
    /// <exception cref="ModelFormatException">The preprocessor's config does not match the model's.</exception>
    public TorchSharpVlm2VecEncoder(Qwen2VlForConditionalGeneration model, Vlm2VecPreprocessor preprocessor, string? modelId = null, string? source = null)
        : this(model, preprocessor ?? throw new ArgumentNullException(nameof(preprocessor)), modelId, source, validate: true)
    {
    }

    /// <summary>For tests and benchmarks on synthetic models: the preprocessor may be absent (then <see cref="Preprocessor"/> throws).</summary>
    internal TorchSharpVlm2VecEncoder(Qwen2VlForConditionalGeneration model, Vlm2VecPreprocessor? preprocessor, string? modelId, string? source, bool validate)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (validate && preprocessor is not null)
        {
            RequireSameModel(model.Config, preprocessor.Config);
        }

        _model = model;
        _model.eval();
        _preprocessor = preprocessor;
        Info = new Vlm2VecModelInfo
        {
            ModelId = string.IsNullOrWhiteSpace(modelId) ? "qwen2-vl" : modelId,
            Dimension = model.Dimension,
            Architecture = model.Config.ModelType,
            Engine = "torchsharp-cpu",
            DType = Qwen2VlCheckpoint.DTypeName(model.DType),
            Source = source,
        };
    }

    /// <inheritdoc />
    public Vlm2VecModelInfo Info { get; }

    /// <inheritdoc />
    public Vlm2VecPreprocessor Preprocessor =>
        _preprocessor ?? throw new InvalidOperationException("This encoder was built without a preprocessor (synthetic model); collate batches yourself.");

    /// <summary>The underlying model (for training and parity checks; do not use it concurrently with <see cref="EncodeAsync"/>).</summary>
    public Qwen2VlForConditionalGeneration Model => _model;

    /// <summary>
    /// Loads a Hugging Face model folder: the weights (see <see cref="Qwen2VlForConditionalGeneration.FromPretrained"/>)
    /// and the matching preprocessing (<see cref="Vlm2VecPreprocessor.FromFolder"/>: tokenizer, image processor, prompt
    /// rules, collator) from the same folder.
    /// </summary>
    /// <exception cref="ModelFormatException">The folder does not hold a usable Qwen2-VL checkpoint and tokenizer.</exception>
    public static TorchSharpVlm2VecEncoder FromPretrained(string folder, Qwen2VlLoadOptions? options = null, PreprocessorOptions? preprocessorOptions = null)
    {
        var preprocessor = Vlm2VecPreprocessor.FromFolder(folder, preprocessorOptions);
        var model = Qwen2VlForConditionalGeneration.FromPretrained(folder, options);
        try
        {
            var id = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
            return new TorchSharpVlm2VecEncoder(model, preprocessor, id, folder);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidInputException">The batch's arrays are inconsistent, or image tokens and images do not match.</exception>
    public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        Validate(batch, _model.Config);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Task.FromResult(Encode(batch));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _model.Dispose();
        }
    }

    private float[][] Encode(CollatedBatch batch)
    {
        long b = batch.BatchSize, l = batch.SequenceLength;
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var input = new Qwen2VlForwardInput
        {
            InputIds = tensor(batch.InputIds, [b, l]),
            AttentionMask = tensor(batch.AttentionMask, [b, l]),
            PositionIds = tensor(batch.PositionIds, [3, b, l]),
            ImageTokenMask = tensor(batch.ImageTokenMask, [b, l]),
            PixelValues = batch.ImageCount > 0 ? tensor(batch.PixelValues, [batch.TotalPatches, batch.PatchRowLength]) : null,
            ImageGridThw = batch.ImageCount > 0 ? tensor(batch.ImageGridThw, [batch.ImageCount, 3]) : null,
        };
        var output = _model.forward(input);
        var flat = output.Embeddings.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var dimension = _model.Dimension;
        var result = new float[batch.BatchSize][];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = flat.AsSpan(i * dimension, dimension).ToArray();
        }

        return result;
    }

    private static void RequireSameModel(Qwen2VlConfig model, Qwen2VlConfig preprocessing)
    {
        if (model.ImageTokenId != preprocessing.ImageTokenId || model.VideoTokenId != preprocessing.VideoTokenId
            || model.VisionStartTokenId != preprocessing.VisionStartTokenId || model.Vision.SpatialMergeSize != preprocessing.Vision.SpatialMergeSize
            || model.Vision.PatchRowLength != preprocessing.Vision.PatchRowLength || model.VocabSize != preprocessing.VocabSize)
        {
            throw new ModelFormatException(
                $"The preprocessor belongs to another model: image/video/vision_start ids {preprocessing.ImageTokenId}/{preprocessing.VideoTokenId}/{preprocessing.VisionStartTokenId}, vocab {preprocessing.VocabSize}, merge {preprocessing.Vision.SpatialMergeSize} " +
                $"vs the model's {model.ImageTokenId}/{model.VideoTokenId}/{model.VisionStartTokenId}, vocab {model.VocabSize}, merge {model.Vision.SpatialMergeSize}.");
        }
    }

    private static void Validate(CollatedBatch batch, Qwen2VlConfig config)
    {
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new InvalidInputException("Collated batch: " + message);
            }
        }

        batch.EnsureConsistentShapes();
        if (batch.ImageCount > 0)
        {
            Require(batch.PatchRowLength == config.Vision.PatchRowLength,
                $"PatchRowLength is {batch.PatchRowLength}; this model's patches have {config.Vision.PatchRowLength} values.");
            Require(batch.PixelValues.Length % batch.PatchRowLength == 0, $"PixelValues has {batch.PixelValues.Length} values, not a multiple of {batch.PatchRowLength}.");
        }
    }
}
