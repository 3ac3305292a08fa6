using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.ML;

/// <summary>
/// The estimator of <see cref="Vlm2VecFineTuningCatalog.FineTuneVlm2Vec"/>. <see cref="Fit"/> reads the input's
/// query/positive pairs, runs the contrastive trainer (<see cref="ContrastiveTrainer"/>: InfoNCE with in-batch and
/// optional hard negatives, GradCache, LoRA/DoRA or full fine-tuning, checkpoints and resume), and returns the
/// <see cref="Vlm2VecEmbeddingTransformer"/> of the fine-tuned model, which later steps of the pipeline train on.
/// Progress and loss go to <c>MLContext.Log</c>; <see cref="Vlm2VecFineTuningOptions.CancellationToken"/> stops it.
/// </summary>
/// <remarks>
/// The fine-tuned model is a Hugging Face folder in the training output folder: <c>model/</c> after a full run, and
/// <c>ml-model/</c> (the base with the adapter merged in) after a LoRA/DoRA run, whose PEFT adapter is in <c>adapter/</c>. The returned transformer records that folder, so a saved
/// pipeline reloads without training again. Fitting again with the same options and data resumes an interrupted run
/// from its last checkpoint; a finished run's output folder must be emptied (or another chosen) to train anew.
/// </remarks>
public sealed class Vlm2VecFineTuningEstimator : IEstimator<Vlm2VecEmbeddingTransformer>
{
    private readonly TransformsCatalog _transforms;
    private readonly IHost _host;
    private readonly Vlm2VecFineTuningOptions _options;
    private readonly Vlm2VecEmbeddingOptions _embedding;

    internal Vlm2VecFineTuningEstimator(TransformsCatalog transforms, Vlm2VecFineTuningOptions options)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.BaseModelPath))
        {
            throw new ArgumentException("Vlm2VecFineTuningOptions.BaseModelPath is not set: give the Hugging Face Qwen2-VL checkpoint folder to fine-tune.", nameof(options));
        }

        if (options.Training is null)
        {
            throw new ArgumentException("Vlm2VecFineTuningOptions.Training is not set: give ContrastiveTrainingOptions with at least OutputFolder.", nameof(options));
        }

        if (options.QueryImageColumnName is null && options.QueryTextColumnName is null)
        {
            throw new ArgumentException("Vlm2VecFineTuningOptions names no query column: set QueryImageColumnName and/or QueryTextColumnName.", nameof(options));
        }

        if (options.PositiveImageColumnName is null && options.PositiveTextColumnName is null)
        {
            throw new ArgumentException("Vlm2VecFineTuningOptions names no positive column: set PositiveImageColumnName and/or PositiveTextColumnName.", nameof(options));
        }

        if (options.Training.InitConfigPath is not null)
        {
            throw new ArgumentException("FineTuneVlm2Vec fine-tunes BaseModelPath; Training.InitConfigPath (a random model) is for the trainer's own API.", nameof(options));
        }

        _transforms = transforms;
        _host = HostEnvironments.Of(transforms).Register("Vlm2VecFineTuning");
        _options = options;
        _embedding = options.Embedding.Copy();
        if (_embedding.ImageColumnName is null && _embedding.TextColumnName is null)
        {
            _embedding.ImageColumnName = options.QueryImageColumnName;
            _embedding.TextColumnName = options.QueryTextColumnName;
            _embedding.Instruction ??= options.QueryInstruction;
            _embedding.ImageFolder ??= options.ImageFolder;
        }

        _embedding.Encoder = null;
    }

    /// <summary>What the last <see cref="Fit"/> trained: steps, losses, outputs (null before the first).</summary>
    public TrainingResult? LastTrainingResult { get; private set; }

    /// <summary>Fine-tunes on <paramref name="input"/>'s pairs and returns the embedding transformer of the fine-tuned model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A pair or embedding column is missing or of the wrong type.</exception>
    /// <exception cref="OperationCanceledException">Cancelled through the options' token (a checkpoint was written; fit again to resume).</exception>
    /// <exception cref="InvalidOperationException">Training stopped early (time limit), diverged, or the output folder holds a finished run.</exception>
    public Vlm2VecEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var columns = PairColumns.Check(input.Schema, _options, nameof(input));
        ColumnChecks.Check(input.Schema, _embedding.ImageColumnName, _embedding.TextColumnName, _embedding.InstructionColumnName, nameof(input));
        var cancellationToken = _options.CancellationToken;
        var examples = PairReader.Read(input, _options, columns, cancellationToken);
        var baseFolder = Path.GetFullPath(_options.BaseModelPath!);
        var training = _options.Training! with { BaseModelFolder = baseFolder, MergeAdapter = false };

        TrainingResult result;
        using (var reporter = new TrainingReporter(_host))
        {
            reporter.Info(string.Create(CultureInfo.InvariantCulture,
                $"Vlm2Vec fine-tuning: {examples.Count} pairs, {training.Mode} mode, batch {training.BatchSize}, temperature {training.Temperature}, output '{Path.GetFullPath(training.OutputFolder)}'."));
            using var trainer = ContrastiveTrainer.Create(training, new HostLoggerFactory(_host).CreateLogger("ContrastiveTrainer"));
            result = trainer.Train(examples, reporter, cancellationToken);
            reporter.Info(string.Create(CultureInfo.InvariantCulture,
                $"Vlm2Vec fine-tuning: {result.Steps}/{result.TotalSteps} steps, final loss {result.FinalLoss:F4}, recent mean loss {result.RecentMeanLoss:F4}, {result.ExamplesPerSecond:F1} pairs/s."));
        }

        LastTrainingResult = result;
        if (result.Cancelled)
        {
            throw new OperationCanceledException(
                $"Vlm2Vec fine-tuning was cancelled at step {result.Steps} of {result.TotalSteps}; checkpoint '{result.LastCheckpoint}'. Fit again with the same options and data to resume.",
                cancellationToken);
        }

        var modelFolder = result.ModelFolder;
        if (result.Completed && modelFolder is null && result.AdapterFolder is { } adapter)
        {
            modelFolder = MergedModelFolder.Write(baseFolder, adapter, Path.GetFullPath(training.OutputFolder));
        }

        if (!result.Completed || modelFolder is null)
        {
            throw new InvalidOperationException(
                $"Vlm2Vec fine-tuning stopped at step {result.Steps} of {result.TotalSteps}{(result.TimedOut ? " (time limit)" : string.Empty)} without a fine-tuned model; " +
                $"checkpoint '{result.LastCheckpoint}'. Fit again with the same options and data to resume.");
        }

        var embedding = _embedding.Copy();
        embedding.ModelPath = modelFolder;
        if (embedding.Preprocessing == new PreprocessorOptions())
        {
            // Serve as trained: the run's prompt style, token limit and truncation (its pixel budget is in the model's
            // preprocessor_config.json already).
            embedding.Preprocessing = training.Preprocessing;
        }

        embedding.EncoderFactory = new TorchSharpEncoderFactory();
        return _transforms.EmbedWithVlm2Vec(embedding).Fit(input);
    }

    /// <summary>The input columns plus the embedding column (a known-size vector of Single), without training.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A pair or embedding column is missing or of the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        PairColumns.Check(inputSchema, _options, nameof(inputSchema));
        var config = Qwen2VlConfig.Load(Path.Combine(_options.BaseModelPath!, "config.json"));
        return Vlm2VecEmbeddingEstimator.OutputShape(_transforms, _embedding, inputSchema, config.HiddenSize);
    }
}
