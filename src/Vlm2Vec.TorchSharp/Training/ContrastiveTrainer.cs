using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Peft;
using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// VLM2Vec's contrastive training on the TorchSharp Qwen2-VL (spec §1.5–§1.10): InfoNCE over in-batch (and hard)
/// negatives, GradCache for large batches, LoRA/DoRA adapters or full fine-tuning, AdamW with linear warmup and decay,
/// gradient clipping, and resumable checkpoints. Inputs go through the serving preprocessing
/// (<see cref="Vlm2VecPreprocessor"/>), so the trained model never sees different inputs at serve time.
/// </summary>
/// <remarks>
/// <para>Create one with <see cref="Create"/>, then call <see cref="Train"/> once. The run folder
/// (<see cref="ContrastiveTrainingOptions.OutputFolder"/>) receives <c>training_args.json</c>, one JSON line per step in
/// <c>training_log.jsonl</c>, checkpoints under <c>checkpoints/</c>, and at the end <c>adapter/</c> (LoRA mode: a PEFT
/// adapter that <see cref="PeftAdapter.Load"/> and <see cref="Qwen2VlLoadOptions.AdapterPath"/> read) and/or
/// <c>model/</c> (full mode, or merged: a Hugging Face folder with tokenizer and processor files).</para>
/// <para>A run stopped at any moment (killed, cancelled, out of time) continues from its last checkpoint on the same
/// trajectory as an uninterrupted run: the checkpoint holds the trainable weights, the AdamW state, the global RNG
/// state and the data position, and the data order and hard-negative choices are pure functions of the seed.</para>
/// <para>Not thread-safe; libtorch threads are process-wide (<see cref="ContrastiveTrainingOptions.Threads"/>).</para>
/// </remarks>
public sealed class ContrastiveTrainer : IDisposable
{
    private const string LogFileName = "training_log.jsonl";
    private const int RecentLossWindow = 50;

    private readonly ContrastiveTrainingOptions _options;
    private readonly ILogger _logger;
    private readonly string _preprocessingFolder;
    private readonly LoraConfig? _adapterConfig;
    private readonly List<(string Name, Parameter Parameter)> _trainable;
    private bool _used;
    private bool _disposed;

    private ContrastiveTrainer(
        Qwen2VlForConditionalGeneration model, Vlm2VecPreprocessor preprocessor, ContrastiveTrainingOptions options, ILogger logger, string preprocessingFolder, LoraConfig? adapterConfig)
    {
        Model = model;
        Preprocessor = preprocessor;
        _options = options;
        _logger = logger;
        _preprocessingFolder = preprocessingFolder;
        _adapterConfig = adapterConfig;
        _trainable = [.. model.named_parameters().Where(p => p.parameter.requires_grad)];
        if (_trainable.Count == 0)
        {
            throw new ArgumentException("No parameter is left trainable: check the mode, the adapter targets and FrozenParameterPrefixes.", nameof(options));
        }

        TrainableParameterNames = [.. _trainable.Select(t => t.Name)];
        TrainableParameterCount = _trainable.Sum(t => t.Parameter.numel());
    }

    /// <summary>The model being trained (train mode; LoRA modules injected in LoRA mode).</summary>
    public Qwen2VlForConditionalGeneration Model { get; }

    /// <summary>The preprocessing every training input takes (the same as serving's).</summary>
    public Vlm2VecPreprocessor Preprocessor { get; }

    /// <summary>Names of the trainable parameters, in optimiser order.</summary>
    public IReadOnlyList<string> TrainableParameterNames { get; }

    /// <summary>Trainable parameter elements.</summary>
    public long TrainableParameterCount { get; }

    /// <summary>
    /// Loads (or randomly initialises) the model, builds its preprocessing, and sets up the trainable parameters:
    /// adapters injected with the run's seed and everything else frozen (LoRA mode), or everything trainable except the
    /// frozen prefixes (full mode).
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent options.</exception>
    /// <exception cref="ModelFormatException">The model, adapter or tokenizer files are missing or unusable.</exception>
    public static ContrastiveTrainer Create(ContrastiveTrainingOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        TorchSharpRuntime.EnsureLoaded();
        set_num_threads(TorchThreadsFor(options));

        Qwen2VlForConditionalGeneration model;
        string preprocessingFolder;
        if (options.BaseModelFolder is { } baseFolder)
        {
            model = Qwen2VlForConditionalGeneration.FromPretrained(baseFolder, new Qwen2VlLoadOptions
            {
                DType = options.DType,
                AdapterPath = options.InitialAdapterFolder,
                MergeAdapter = options.Mode == FineTuningMode.Full,
            });
            preprocessingFolder = options.TokenizerFolder ?? baseFolder;
        }
        else
        {
            var config = Qwen2VlConfig.Load(options.InitConfigPath!);
            model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = options.InitSeed ?? options.Seed, DType = options.DType });
            preprocessingFolder = options.TokenizerFolder!;
        }

        try
        {
            var preprocessor = new Vlm2VecPreprocessor(
                model.Config, Qwen2Tokenizer.FromFolder(preprocessingFolder), ImageProcessorConfig.FromModelFolder(preprocessingFolder), options.Preprocessing, logger);
            var adapterConfig = ConfigureParameters(model, options);
            return new ContrastiveTrainer(model, preprocessor, options, logger ?? NullLogger.Instance, Path.GetFullPath(preprocessingFolder), adapterConfig);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs (or resumes) training on <paramref name="examples"/> on a worker thread; see <see cref="Train"/>.</summary>
    public Task<TrainingResult> TrainAsync(IEnumerable<ContrastiveExample> examples, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Train(examples, progress, cancellationToken), CancellationToken.None);

    /// <summary>
    /// Runs (or resumes, see <see cref="ContrastiveTrainingOptions.Resume"/>) training on <paramref name="examples"/>,
    /// which are read once into memory (rows hold paths or bytes; images are decoded batch by batch). Cancellation and
    /// the time limit stop the run after the current step with a checkpoint; the result says so. Call once.
    /// </summary>
    /// <exception cref="TrainingDataException">An unusable row under <see cref="BadRowPolicy.Fail"/>, or no usable row at all.</exception>
    /// <exception cref="ModelFormatException">A checkpoint that does not belong to this run.</exception>
    /// <exception cref="InvalidOperationException">Called twice, the loss diverged, or a fresh run over an existing one.</exception>
    public TrainingResult Train(IEnumerable<ContrastiveExample> examples, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_used)
        {
            throw new InvalidOperationException("A ContrastiveTrainer trains once; create another one for another run.");
        }

        _used = true;
        var o = _options;
        var output = Path.GetFullPath(o.OutputFolder);
        Directory.CreateDirectory(output);
        TrainingCheckpoint.RemoveTemporaries(output);

        var data = Materialise(examples, out var loadSkipped);
        var sampler = new EpochBatchSampler([.. data.Select(e => e.Dataset)], o.BatchSize, o.Shuffle, o.HomogeneousBatches, o.Seed);
        var totalSteps = o.MaxSteps ?? Math.Max(1, (int)Math.Ceiling(o.Epochs * sampler.BatchesPerEpoch));
        var warmup = LinearWarmupSchedule.WarmupStepsFor(o, totalSteps);
        var trajectory = TrainingRunDescription.TrajectoryJson(o, totalSteps, warmup, _adapterConfig);
        var optionsFingerprint = TrainingRunDescription.Fingerprint(trajectory);
        var dataFingerprint = TrainingRunDescription.DataFingerprint(data);

        using var optimizer = CreateOptimizer();
        var gradCache = o.QueryChunkSize is not null || o.TargetChunkSize is not null;
        var assembler = new TrainingBatchAssembler(
            Preprocessor, data, o.HardNegatives, o.Seed, o.BadRows, _logger, deferImages: gradCache && !o.KeepBatchImages, parallelism: PreparationThreadsFor(o));
        var runner = new ContrastiveStepRunner(Model, Preprocessor.Collator, o.Temperature, o.SymmetricLoss)
        {
            OverlapPreparation = o.OverlapPreprocessing,
            PreparationThreads = PreparationThreadsFor(o),
            KeepLastChunkGraphs = o.GradCacheKeepLastChunkGraphs,
            ReuseFrozenVisionFeatures = o.GradCacheReuseVisionFeatures,
        };
        var state = new TrainerState { TotalSteps = totalSteps, OptionsFingerprint = optionsFingerprint, DataFingerprint = dataFingerprint };
        var logPath = Path.Combine(output, LogFileName);

        int? resumedFrom = null;
        var checkpoint = o.ResumeFromCheckpoint ?? (o.Resume == ResumeBehavior.Auto ? TrainingCheckpoint.FindLatest(output) : null);
        if (o.Resume == ResumeBehavior.Never && o.ResumeFromCheckpoint is null && TrainingCheckpoint.FindLatest(output) is { } existing)
        {
            throw new InvalidOperationException(
                $"The output folder already holds checkpoint '{existing}' of an earlier run. Resume it (ResumeBehavior.Auto, 'vlm2vec train --resume auto'), or choose an empty output folder.");
        }

        progress?.Report(new TrainingProgress { Phase = TrainingPhase.Starting, Step = 0, TotalSteps = totalSteps, SkippedRows = loadSkipped });
        if (checkpoint is not null)
        {
            state = ResumeFrom(checkpoint, optionsFingerprint, dataFingerprint, data.Count, optimizer, assembler, logPath);
            resumedFrom = state.Step;
            TrainingLog.Resuming(_logger, checkpoint, state.Step, totalSteps);
        }
        else
        {
            manual_seed(o.Seed);
            File.WriteAllBytes(logPath, []);
            TrainingCheckpoint.WriteDurably(Path.Combine(output, TrainingRunDescription.ArgsFileName), Encoding.UTF8.GetBytes(TrainingRunDescription.ArgsJson(o, trajectory, data.Count)));
        }

        TrainingLog.Starting(
            _logger, o.Mode.ToString(), TrainableParameterCount, Model.parameters().Sum(p => p.numel()), data.Count, totalSteps, o.BatchSize, warmup,
            o.QueryChunkSize is null && o.TargetChunkSize is null ? "off" : $"{o.QueryChunkSize?.ToString(CultureInfo.InvariantCulture) ?? "all"}/{o.TargetChunkSize?.ToString(CultureInfo.InvariantCulture) ?? "all"}");

        Model.train();
        var clock = Stopwatch.StartNew();
        var deadline = o.TimeLimit is { } limit ? limit : (TimeSpan?)null;
        var recent = new Queue<double>();
        long examplesThisRun = 0;
        var stepsThisRun = 0;
        string? lastCheckpoint = checkpoint is null ? null : Path.GetFullPath(checkpoint);
        var lastCheckpointStep = checkpoint is null ? -1 : state.Step;
        var cancelled = false;
        var timedOut = false;
        var parameters = _trainable.Select(t => t.Parameter).ToList();

        using (var log = new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            Task<PreparationResult[]>? prefetch = null;
            var prefetchCursor = (Epoch: -1, Batch: -1);
            while (state.Step < totalSteps)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }

                if (deadline is { } d && clock.Elapsed >= d)
                {
                    timedOut = true;
                    break;
                }

                var cursor = (state.Epoch, state.BatchInEpoch);
                var prepared = prefetch is not null && prefetchCursor == cursor
                    ? prefetch.GetAwaiter().GetResult()
                    : assembler.Prepare(sampler.Batch(cursor.Epoch, cursor.BatchInEpoch), cursor.Epoch);
                var next = Advance(cursor, sampler.BatchesPerEpoch);
                if (o.OverlapPreprocessing && state.Step + 1 < totalSteps)
                {
                    prefetchCursor = next;
                    var nextIndices = sampler.Batch(next.Epoch, next.Batch);
                    prefetch = Task.Run(() => assembler.Prepare(nextIndices, next.Epoch));
                }
                else
                {
                    prefetch = null;
                }

                var accepted = assembler.Accept(prepared);
                state.Epoch = next.Epoch;
                state.BatchInEpoch = next.Batch;
                if (accepted.Count == 0)
                {
                    TrainingLog.EmptyBatch(_logger, cursor.BatchInEpoch, cursor.Epoch);
                    continue;
                }

                var batch = ContrastiveBatch.From(accepted);
                var learningRate = o.LearningRate * LinearWarmupSchedule.Factor(state.Step, warmup, totalSteps);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = learningRate;
                }

                optimizer.zero_grad();
                var loss = runner.Run(batch, o.QueryChunkSize, o.TargetChunkSize);
                if (!double.IsFinite(loss))
                {
                    throw new InvalidOperationException(
                        $"The loss became {loss} at step {state.Step + 1}; lower the learning rate or raise the temperature. The last checkpoint is '{lastCheckpoint ?? "(none)"}'.");
                }

                var gradientNorm = GradientClipping.ClipAndMeasure(parameters, o.MaxGradNorm);
                optimizer.step();

                state.Step++;
                state.ExamplesSeen += batch.Queries.Count;
                state.LastLoss = loss;
                stepsThisRun++;
                examplesThisRun += batch.Queries.Count;
                recent.Enqueue(loss);
                if (recent.Count > RecentLossWindow)
                {
                    recent.Dequeue();
                }

                WriteLogLine(log, state, cursor.Epoch, loss, learningRate, gradientNorm, batch, assembler.BadRowCount);
                var elapsed = clock.Elapsed;
                progress?.Report(new TrainingProgress
                {
                    Phase = TrainingPhase.Step,
                    Step = state.Step,
                    TotalSteps = totalSteps,
                    Epoch = cursor.Epoch,
                    Loss = loss,
                    LearningRate = learningRate,
                    GradientNorm = gradientNorm,
                    ExamplesPerSecond = examplesThisRun / Math.Max(elapsed.TotalSeconds, 1e-9),
                    Elapsed = elapsed,
                    Remaining = TimeSpan.FromSeconds(elapsed.TotalSeconds / stepsThisRun * (totalSteps - state.Step)),
                    SkippedRows = loadSkipped + assembler.BadRowCount,
                });

                if (o.SaveEverySteps > 0 && state.Step % o.SaveEverySteps == 0 && state.Step < totalSteps)
                {
                    lastCheckpoint = SaveCheckpoint(output, state, assembler, optimizer, log, progress);
                    lastCheckpointStep = state.Step;
                }
            }

            // Let a prefetch still running finish before the data it reads goes away.
            try
            {
                prefetch?.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Its rows are prepared again (and reported) by whichever run consumes them.
            }

            if (state.Step > lastCheckpointStep)
            {
                lastCheckpoint = SaveCheckpoint(output, state, assembler, optimizer, log, progress);
            }
        }

        var completed = state.Step >= totalSteps;
        string? adapterFolder = null;
        string? modelFolder = null;
        if (completed || (timedOut && stepsThisRun > 0))
        {
            progress?.Report(new TrainingProgress { Phase = TrainingPhase.WritingOutputs, Step = state.Step, TotalSteps = totalSteps, Message = output });
            (adapterFolder, modelFolder) = WriteOutputs(output);
        }

        var total = clock.Elapsed;
        var result = new TrainingResult
        {
            Steps = state.Step,
            TotalSteps = totalSteps,
            Completed = completed,
            Cancelled = cancelled,
            TimedOut = timedOut,
            ResumedFromStep = resumedFrom,
            FinalLoss = stepsThisRun > 0 ? state.LastLoss : double.NaN,
            RecentMeanLoss = recent.Count > 0 ? recent.Average() : double.NaN,
            Examples = examplesThisRun,
            Elapsed = total,
            ExamplesPerSecond = examplesThisRun / Math.Max(total.TotalSeconds, 1e-9),
            SkippedRows = loadSkipped + assembler.BadRowCount,
            TrainableParameters = TrainableParameterCount,
            LastCheckpoint = lastCheckpoint,
            AdapterFolder = adapterFolder,
            ModelFolder = modelFolder,
        };
        progress?.Report(new TrainingProgress
        {
            Phase = TrainingPhase.Finished,
            Step = state.Step,
            TotalSteps = totalSteps,
            Loss = result.FinalLoss,
            Elapsed = total,
            ExamplesPerSecond = result.ExamplesPerSecond,
            SkippedRows = result.SkippedRows,
        });
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Model.Dispose();
    }

    /// <summary>Checks that a checkpoint belongs to this run and restores weights, optimiser, RNG, bad rows and the log.</summary>
    private TrainerState ResumeFrom(
        string checkpoint, string optionsFingerprint, string dataFingerprint, int rows, OptimizerHelper optimizer, TrainingBatchAssembler assembler, string logPath)
    {
        var state = TrainingCheckpoint.ReadState(checkpoint);
        if (state.OptionsFingerprint != optionsFingerprint)
        {
            throw new ModelFormatException(
                $"Checkpoint '{checkpoint}' was written with other training options (a different model, mode, adapter, batch, schedule, seed or preprocessing; see {TrainingRunDescription.ArgsFileName}). Resume with the same options, or start in another output folder.");
        }

        if (state.DataFingerprint != dataFingerprint)
        {
            throw new ModelFormatException($"Checkpoint '{checkpoint}' was written for other training data ({rows} rows now); resume with the same rows in the same order.");
        }

        TrainingCheckpoint.Restore(checkpoint, _trainable, optimizer);
        using (var rng = tensor(Convert.FromBase64String(state.RngState), ScalarType.Byte))
        {
            set_rng_state(rng);
        }

        assembler.MarkBad(state.BadRows);
        TruncateLog(logPath, state.LogBytes);
        return state;
    }

    /// <summary>The adapter (LoRA mode) and/or the full model folder (full mode, or merged).</summary>
    private (string? Adapter, string? Model) WriteOutputs(string output)
    {
        var o = _options;
        Model.eval();
        if (o.Mode == FineTuningMode.Full)
        {
            return (null, TrainingOutputs.WriteModel(output, Model, _preprocessingFolder, o.Preprocessing));
        }

        var config = _adapterConfig! with
        {
            BaseModelNameOrPath = o.BaseModelFolder is null ? _adapterConfig.BaseModelNameOrPath : Path.GetFullPath(o.BaseModelFolder),
            InferenceMode = true,
        };
        var adapter = TrainingOutputs.WriteAdapter(output, Model, config);
        if (!o.MergeAdapter)
        {
            return (adapter, null);
        }

        LoraInjector.MergeAndUnload(Model);
        return (adapter, TrainingOutputs.WriteModel(output, Model, _preprocessingFolder, o.Preprocessing));
    }

    /// <summary>
    /// libtorch threads: the option, else one per core less one left to input preparation when it overlaps the model
    /// (libtorch's OpenMP threads wait on each other, so sharing their cores with busy preparation threads costs far
    /// more than the core lent).
    /// </summary>
    internal static int TorchThreadsFor(ContrastiveTrainingOptions options) =>
        options.Threads ?? (options.OverlapPreprocessing ? Math.Max(1, Environment.ProcessorCount - 1) : Environment.ProcessorCount);

    /// <summary>
    /// Threads that prepare inputs: beside the model, the cores libtorch leaves (at least one); between model calls, every
    /// core (the training thread waits for them, so no allocation runs during a libtorch call).
    /// </summary>
    internal static int PreparationThreadsFor(ContrastiveTrainingOptions options) =>
        options.OverlapPreprocessing ? Math.Max(1, Environment.ProcessorCount - TorchThreadsFor(options)) : Environment.ProcessorCount;

    private static (int Epoch, int Batch) Advance((int Epoch, int Batch) cursor, int batchesPerEpoch) =>
        cursor.Batch + 1 < batchesPerEpoch ? (cursor.Epoch, cursor.Batch + 1) : (cursor.Epoch + 1, 0);

    private string SaveCheckpoint(string output, TrainerState state, TrainingBatchAssembler assembler, OptimizerHelper optimizer, FileStream log, IProgress<TrainingProgress>? progress)
    {
        progress?.Report(new TrainingProgress { Phase = TrainingPhase.Checkpointing, Step = state.Step, TotalSteps = state.TotalSteps });
        log.Flush(flushToDisk: true);
        state.LogBytes = log.Position;
        state.BadRows = assembler.BadRowsSnapshot();
        using (var rng = get_rng_state())
        {
            state.RngState = Convert.ToBase64String(rng.bytes);
        }

        var folder = TrainingCheckpoint.Save(output, state, _trainable, optimizer, _options.KeepCheckpoints);
        TrainingLog.CheckpointWritten(_logger, folder);
        return folder;
    }

    private static void WriteLogLine(FileStream log, TrainerState state, int epoch, double loss, double learningRate, double gradientNorm, ContrastiveBatch batch, int badRows)
    {
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"step\":{state.Step},\"epoch\":{epoch},\"loss\":{loss:R},\"lr\":{learningRate:R},\"grad_norm\":{gradientNorm:R},\"queries\":{batch.Queries.Count},\"targets\":{batch.Targets.Count},\"bad_rows\":{badRows}}}\n");
        log.Write(Encoding.UTF8.GetBytes(line));
        log.Flush();
    }

    private static void TruncateLog(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write);
        stream.SetLength(Math.Min(length, stream.Length));
    }

    private AdamW CreateOptimizer()
    {
        var o = _options;
        var decay = _trainable.Where(t => !IsNoDecay(t.Name, t.Parameter)).Select(t => t.Parameter).ToList();
        var noDecay = _trainable.Where(t => IsNoDecay(t.Name, t.Parameter)).Select(t => t.Parameter).ToList();
        var groups = new List<AdamW.ParamGroup>();
        if (decay.Count > 0)
        {
            groups.Add(new AdamW.ParamGroup(decay, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay));
        }

        if (noDecay.Count > 0)
        {
            groups.Add(new AdamW.ParamGroup(noDecay, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, 0));
        }

        return new ScalarDisposing.AdamW(groups, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay);
    }

    /// <summary>HF Trainer's rule: biases and normalisation weights (1-D, or named so) get no weight decay.</summary>
    private static bool IsNoDecay(string name, Parameter parameter) =>
        name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("norm", StringComparison.OrdinalIgnoreCase)
        || (parameter.dim() == 1 && !name.EndsWith("lora_magnitude_vector", StringComparison.Ordinal));

    private List<ContrastiveExample> Materialise(IEnumerable<ContrastiveExample> examples, out int skipped)
    {
        var list = new List<ContrastiveExample>();
        skipped = 0;
        string? first = null;
        var index = 0;
        foreach (var example in examples)
        {
            var problem = example is null ? "the row is null"
                : example.Query is null ? "the row has no query"
                : example.Positive is null ? "the row has no positive target"
                : example.Negatives is null ? "the row's negative list is null"
                : null;
            if (problem is not null)
            {
                var source = example?.Source ?? $"example {index}";
                if (_options.BadRows == BadRowPolicy.Fail)
                {
                    throw new TrainingDataException(source, problem);
                }

                skipped++;
                first ??= $"{source}: {problem}";
                TrainingLog.BadRowSkipped(_logger, source, problem);
            }
            else
            {
                list.Add(example!);
            }

            index++;
        }

        if (list.Count == 0)
        {
            throw new TrainingDataException($"There is no usable training row ({skipped} unusable).");
        }

        return list;
    }

    private static LoraConfig? ConfigureParameters(Qwen2VlForConditionalGeneration model, ContrastiveTrainingOptions options)
    {
        LoraConfig? adapter = null;
        if (options.Mode == FineTuningMode.Lora)
        {
            if (options.InitialAdapterFolder is { } adapterFolder)
            {
                adapter = LoraConfig.Load(Path.Combine(adapterFolder, PeftAdapter.ConfigFileName));
            }
            else
            {
                adapter = options.Adapter;
                LoraInjector.Inject(model, adapter, new LoraInjectOptions { Seed = options.Seed });
            }

            LoraInjector.FreezeAllButAdapters(model);
        }
        else
        {
            foreach (var parameter in model.parameters())
            {
                parameter.requires_grad = true;
            }

            if (options.TrainVisionTower == false)
            {
                Freeze(model, "visual.");
            }
        }

        foreach (var prefix in options.FrozenParameterPrefixes)
        {
            Freeze(model, prefix);
        }

        return adapter;
    }

    private static void Freeze(nn.Module model, string prefix)
    {
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                parameter.requires_grad = false;
            }
        }
    }

    private static void Validate(ContrastiveTrainingOptions o)
    {
        static ArgumentException Bad(string message) => new(message, "options");
        if (string.IsNullOrWhiteSpace(o.OutputFolder))
        {
            throw Bad("OutputFolder is required.");
        }

        if ((o.BaseModelFolder is null) == (o.InitConfigPath is null))
        {
            throw Bad("Give exactly one of BaseModelFolder (a pretrained model) and InitConfigPath (a config for a randomly initialised model).");
        }

        if (o.InitConfigPath is not null && o.TokenizerFolder is null)
        {
            throw Bad("A randomly initialised model (InitConfigPath) needs TokenizerFolder for its tokenizer and image-processor files.");
        }

        if (o.InitConfigPath is not null && o.Mode == FineTuningMode.Lora)
        {
            throw Bad("LoRA needs a pretrained base model (BaseModelFolder); train a randomly initialised model in Full mode.");
        }

        if (o.InitialAdapterFolder is not null && o.BaseModelFolder is null)
        {
            throw Bad("InitialAdapterFolder needs BaseModelFolder (the model the adapter belongs to).");
        }

        if (o.Mode == FineTuningMode.Lora && o.TrainVisionTower == true)
        {
            throw Bad("In LoRA mode only the adapters train (VLM2Vec freezes the vision tower); use Full mode to train the vision tower.");
        }

        if (o.BatchSize < 1 || o.QueryChunkSize is < 1 || o.TargetChunkSize is < 1)
        {
            throw Bad($"BatchSize ({o.BatchSize}) and the chunk sizes ({o.QueryChunkSize}, {o.TargetChunkSize}) must be at least 1.");
        }

        if (!(o.Temperature > 0) || o.HardNegatives < 0 || o.MaxSteps is < 1 || !(o.Epochs > 0) || o.SaveEverySteps < 0 || o.KeepCheckpoints < 1)
        {
            throw Bad("Temperature and Epochs must be positive, MaxSteps and KeepCheckpoints at least 1, HardNegatives and SaveEverySteps not negative.");
        }

        if (!(o.LearningRate >= 0) || o.WarmupSteps is < 0 || o.WarmupRatio is < 0 or > 1 || o.WeightDecay < 0 || o.MaxGradNorm is < 0)
        {
            throw Bad("LearningRate, WarmupSteps, WeightDecay and MaxGradNorm must not be negative, and WarmupRatio must be in [0, 1].");
        }

        if (o.AdamBeta1 is < 0 or >= 1 || o.AdamBeta2 is < 0 or >= 1 || !(o.AdamEpsilon >= 0))
        {
            throw Bad("Adam betas must be in [0, 1) and epsilon not negative.");
        }

        if (o.DType is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            throw Bad($"DType must be Float32 or BFloat16, not {o.DType}.");
        }

        if (o.Threads is < 1)
        {
            throw Bad("Threads must be at least 1.");
        }
    }
}
