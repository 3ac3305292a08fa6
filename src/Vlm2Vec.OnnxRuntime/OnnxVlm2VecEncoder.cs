using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Vlm2Vec.Preprocessing;
using Names = Vlm2Vec.Vlm2VecBundleTensorNames;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>
/// An <see cref="IVlm2VecEncoder"/> over a model bundle on ONNX Runtime: CPU by default, CUDA or TensorRT on request
/// (with a fallback-or-fail policy). A collated batch runs as one or more vision-graph runs (images grouped by patch
/// grid, within a patch budget) whose features are written straight into one buffer, then one text-graph run that
/// scatters them, runs the decoder, pools and normalises.
/// </summary>
/// <remarks>
/// Thread-safe: concurrent callers share the two sessions (ONNX Runtime's <c>Run</c> is thread-safe) with no lock on
/// the hot path. Batch arrays are handed to ONNX Runtime in place (pinned, not copied); the feature and output buffers
/// come from <see cref="ArrayPool{T}"/>. The bundle is checked completely at load (manifest version, files, config,
/// tokenizer, graph interfaces), so a bad bundle fails in <see cref="FromBundle"/>, not at the first request.
/// </remarks>
public sealed class OnnxVlm2VecEncoder : IVlm2VecEncoder
{
    private static readonly float[] EmptyFeatures = new float[1];
    private static readonly string[] VisionInputNames = [Names.PixelValues, Names.RotaryPositionIds];
    private static readonly string[] VisionOutputNames = [Names.ImageEmbeds];
    private static readonly string[] TextInputNames = [Names.InputIds, Names.AttentionMask, Names.PositionIds, Names.ImageTokenMask, Names.ImageEmbeds];
    private static readonly string[] TextOutputNames = [Names.Embeddings];

    private readonly OrtSessions _sessions;
    private readonly OnnxVlm2VecEncoderOptions _options;
    private readonly int _hidden;
    private readonly int _mergeSize;
    private readonly int _patchRowLength;
    private int _disposed;
    private int _inFlight;

    private OnnxVlm2VecEncoder(Vlm2VecBundle bundle, OrtSessions sessions, OnnxVlm2VecEncoderOptions options)
    {
        Bundle = bundle;
        _sessions = sessions;
        _options = options;
        _hidden = bundle.Config.HiddenSize;
        _mergeSize = bundle.Config.Vision.SpatialMergeSize;
        _patchRowLength = bundle.Config.Vision.PatchRowLength;
        Preprocessor = CreatePreprocessor(bundle, options);
        Info = new Vlm2VecModelInfo
        {
            ModelId = bundle.Manifest.ModelId,
            Dimension = bundle.Manifest.EmbeddingDimension,
            Architecture = bundle.Manifest.Architecture,
            Engine = EngineName(sessions.Provider),
            DType = bundle.Manifest.DType,
            Source = bundle.Folder,
        };
    }

    /// <inheritdoc />
    public Vlm2VecModelInfo Info { get; }

    /// <inheritdoc />
    public Vlm2VecPreprocessor Preprocessor { get; }

    /// <summary>The opened bundle (manifest, config, tokenizer).</summary>
    public Vlm2VecBundle Bundle { get; }

    /// <summary>The provider the graphs run on (CPU after a fallback).</summary>
    public OnnxExecutionProvider ExecutionProvider => _sessions.Provider;

    /// <summary>Time spent in the sessions (benchmarks).</summary>
    internal OnnxRunStatistics Statistics { get; } = new();

    /// <summary>Why the requested GPU provider is not in use, or <see langword="null"/>.</summary>
    public string? ExecutionProviderFallbackReason => _sessions.FallbackReason;

    /// <summary>
    /// Opens a model bundle: checks it completely (see <see cref="Vlm2VecBundle.Open"/>), creates the sessions on the
    /// requested provider (or falls back to CPU, logging why), and checks the graphs against the manifest.
    /// </summary>
    /// <exception cref="ModelFormatException">The bundle is missing, corrupt, of an unsupported version, or inconsistent.</exception>
    /// <exception cref="ExecutionProviderException">The GPU provider cannot be used and <see cref="OnnxVlm2VecEncoderOptions.Fallback"/> is <see cref="ExecutionProviderFallback.Fail"/>.</exception>
    public static OnnxVlm2VecEncoder FromBundle(string folder, OnnxVlm2VecEncoderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new OnnxVlm2VecEncoderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPatchesPerVisionRun, 1, nameof(options));
        var logger = options.Logger ?? NullLogger.Instance;
        var watch = Stopwatch.StartNew();
        var bundle = Vlm2VecBundle.Open(folder, options.BundleChecks);
        var sessions = OrtSessions.Create(bundle, options);
        var encoder = new OnnxVlm2VecEncoder(bundle, sessions, options);
        if (bundle.Manifest.DType == "float16" && sessions.Provider == OnnxExecutionProvider.Cpu)
        {
            OnnxRuntimeLog.Float16OnCpu(logger, bundle.Folder);
        }

        OnnxRuntimeLog.Loaded(logger, encoder.Info.ModelId, encoder.Info.DType, bundle.Folder, encoder.Info.Engine, watch.ElapsedMilliseconds);
        return encoder;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidInputException">The batch's arrays are inconsistent, or image tokens and images do not match.</exception>
    public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _inFlight);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return Task.FromResult(Encode(batch, cancellationToken));
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<float[][]>(cancellationToken);
        }
        catch (OperationCanceledException ex) when (ex.CancellationToken == cancellationToken)
        {
            return Task.FromCanceled<float[][]>(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Releases the sessions, after the calls already running have finished (new calls are refused).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var wait = new SpinWait();
        while (Volatile.Read(ref _inFlight) != 0)
        {
            wait.SpinOnce();
        }

        _sessions.Dispose();
    }

    private float[][] Encode(CollatedBatch batch, CancellationToken cancellationToken)
    {
        var runs = Validate(batch, out var imageTokens);
        var featureLength = imageTokens * _hidden;
        var features = featureLength == 0 ? EmptyFeatures : ArrayPool<float>.Shared.Rent(featureLength);
        var embeddings = ArrayPool<float>.Shared.Rent(batch.BatchSize * _hidden);
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.CanBeCanceled ? cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, runOptions) : default;
        try
        {
            foreach (var run in runs)
            {
                RunVision(batch, run, features, runOptions);
                cancellationToken.ThrowIfCancellationRequested();
            }

            RunText(batch, features, featureLength, imageTokens, embeddings, runOptions);
            cancellationToken.ThrowIfCancellationRequested();

            var result = new float[batch.BatchSize][];
            for (var row = 0; row < result.Length; row++)
            {
                result[row] = embeddings.AsSpan(row * _hidden, _hidden).ToArray();
            }

            return result;
        }
        finally
        {
            if (!ReferenceEquals(features, EmptyFeatures))
            {
                ArrayPool<float>.Shared.Return(features);
            }

            ArrayPool<float>.Shared.Return(embeddings);
        }
    }

    private void RunVision(CollatedBatch batch, VisionRun run, float[] features, RunOptions runOptions)
    {
        var patches = run.PatchesPerSlice;
        var pixelCount = (long)run.Slices * patches * _patchRowLength;
        var tokensPerSlice = patches / (_mergeSize * _mergeSize);
        var featureCount = run.Slices * tokensPerSlice * _hidden;
        var rotaryIds = VisionRunPlan.RotaryIds(run.GridH, run.GridW, _mergeSize);
        using var pixels = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, new Memory<float>(batch.PixelValues, checked((int)run.PixelOffset), checked((int)pixelCount)), [run.Slices, patches, _patchRowLength]);
        using var ids = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<long>(rotaryIds), [patches, 2]);
        using var output = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, new Memory<float>(features, run.FeatureRowOffset * _hidden, featureCount), [run.Slices, tokensPerSlice, _hidden]);
        var start = Stopwatch.GetTimestamp();
        _sessions.Vision.Run(runOptions, VisionInputNames, [pixels, ids], VisionOutputNames, [output]);
        Statistics.AddVision(Stopwatch.GetTimestamp() - start);
    }

    private void RunText(CollatedBatch batch, float[] features, int featureLength, int imageTokens, float[] embeddings, RunOptions runOptions)
    {
        long b = batch.BatchSize, l = batch.SequenceLength;
        using var inputIds = OrtValue.CreateTensorValueFromMemory(batch.InputIds, [b, l]);
        using var attentionMask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask, [b, l]);
        using var positionIds = OrtValue.CreateTensorValueFromMemory(batch.PositionIds, [3, b, l]);
        using var imageTokenMask = OrtValue.CreateTensorValueFromMemory(batch.ImageTokenMask, [b, l]);
        using var imageEmbeds = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(features, 0, featureLength), [imageTokens, _hidden]);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(embeddings, 0, batch.BatchSize * _hidden), [b, _hidden]);
        var start = Stopwatch.GetTimestamp();
        _sessions.Text.Run(runOptions, TextInputNames, [inputIds, attentionMask, positionIds, imageTokenMask, imageEmbeds], TextOutputNames, [output]);
        Statistics.AddText(Stopwatch.GetTimestamp() - start);
    }

    /// <summary>Checks the batch's arrays against each other and the model, and plans the vision runs.</summary>
    private List<VisionRun> Validate(CollatedBatch batch, out int imageTokens)
    {
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new InvalidInputException("Collated batch: " + message);
            }
        }

        batch.EnsureConsistentShapes();
        long patches = 0;
        for (var image = 0; image < batch.ImageCount; image++)
        {
            long t = batch.ImageGridThw[3 * image], h = batch.ImageGridThw[(3 * image) + 1], w = batch.ImageGridThw[(3 * image) + 2];
            Require(t > 0 && h > 0 && w > 0 && h % _mergeSize == 0 && w % _mergeSize == 0,
                $"image {image} has grid ({t}, {h}, {w}); every side must be positive and h, w multiples of the merge size {_mergeSize}.");
            patches += t * h * w;
        }

        if (batch.ImageCount > 0)
        {
            Require(batch.PatchRowLength == _patchRowLength, $"PatchRowLength is {batch.PatchRowLength}; this model's patches have {_patchRowLength} values.");
            Require(batch.PixelValues.Length == patches * _patchRowLength,
                $"PixelValues has {batch.PixelValues.Length} values; the grids need {patches} patch rows of {_patchRowLength} = {patches * _patchRowLength}.");
        }

        var runs = VisionRunPlan.Plan(batch, _mergeSize, _options.MaxPatchesPerVisionRun, out imageTokens);
        long maskedTokens = 0;
        foreach (var flag in batch.ImageTokenMask)
        {
            maskedTokens += flag != 0 ? 1 : 0;
        }

        Require(maskedTokens == imageTokens,
            $"ImageTokenMask marks {maskedTokens} image-token positions but the images give {imageTokens} feature rows (patches / {_mergeSize * _mergeSize}); each image needs exactly its placeholder tokens.");
        return runs;
    }

    /// <summary>The bundle's preprocessing: its tokenizer, image processor config and limits, unless the options override them.</summary>
    private static Vlm2VecPreprocessor CreatePreprocessor(Vlm2VecBundle bundle, OnnxVlm2VecEncoderOptions options)
    {
        var manifest = bundle.Manifest;
        var preprocessing = options.Preprocessing ?? new PreprocessorOptions();
        preprocessing = preprocessing with
        {
            MaxTokens = preprocessing.MaxTokens ?? manifest.Limits.MaxTokens,
            Padding = preprocessing.Padding ?? (manifest.PaddingSide == "right" ? PaddingSide.Right : PaddingSide.Left),
        };
        var imageProcessor = ImageProcessorConfig.Load(bundle.PathOf(Vlm2VecBundle.PreprocessorConfigFileName));
        return new Vlm2VecPreprocessor(bundle.Config, bundle.Tokenizer, imageProcessor, preprocessing, options.Logger);
    }

    private static string EngineName(OnnxExecutionProvider provider) => provider switch
    {
        OnnxExecutionProvider.Cuda => "onnxruntime-cuda",
        OnnxExecutionProvider.TensorRt => "onnxruntime-tensorrt",
        _ => "onnxruntime-cpu",
    };
}
