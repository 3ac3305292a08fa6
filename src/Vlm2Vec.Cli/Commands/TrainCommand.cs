using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Spectre.Console;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Training;
using static TorchSharp.torch;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec train</c>: VLM2Vec contrastive fine-tuning (InfoNCE, GradCache, LoRA/DoRA or full) of a Qwen2-VL model on
/// MMEB-train style JSON lines, with a live progress bar, resumable checkpoints (Ctrl+C saves one), and an adapter or
/// model folder at the end. Every option can also come from a JSON config (<c>--config</c>; the command line wins).
/// </summary>
internal sealed class TrainCommand : VerbCommand
{
    private readonly Option<string> _config = Opt<string>("--config", "file", "JSON file of options: keys are the option names without '--' (\"batch-size\": 64, \"data\": [\"a.jsonl\"]); the command line wins; relative paths are relative to the file.");
    private readonly Option<string[]> _data = Opt<string[]>("--data", "file", "MMEB-train style JSON lines (qry, qry_image_path, pos_text, pos_image_path, optional neg_text/neg_image_path, dataset); repeatable.");
    private readonly Option<string> _imageRoot = Opt<string>("--image-root", "dir", "Folder image paths are relative to (default: each data file's folder).");
    private readonly Option<string> _badRows = Opt<string>("--bad-rows", "skip|fail", "Unusable rows (missing/undecodable image, empty or malformed row): skip them with a warning naming the line (default), or fail.");
    private readonly Option<string> _model = Opt<string>("--model", "dir", "Hugging Face Qwen2-VL folder to fine-tune (weights, config, tokenizer, preprocessor_config.json).");
    private readonly Option<string> _adapter = Opt<string>("--adapter", "dir", "PEFT adapter of --model to continue training (LoRA/DoRA modes) or to merge before full training.");
    private readonly Option<string> _initConfig = Opt<string>("--init-config", "file", "config.json of a randomly initialised model to train from scratch (full mode; needs --tokenizer).");
    private readonly Option<long?> _initSeed = Opt<long?>("--init-seed", "n", "Seed of the random initialisation (default: --seed).");
    private readonly Option<string> _tokenizer = Opt<string>("--tokenizer", "dir", "Folder with tokenizer.json, tokenizer_config.json and preprocessor_config.json (default: --model's).");
    private readonly Option<string> _dtype = Opt<string>("--dtype", "fp32|bf16", "Parameter type (default fp32; bf16 as VLM2Vec trains, adapters stay fp32).");
    private readonly Option<string> _mode = Opt<string>("--mode", "dora|lora|full", "DoRA adapters (VLM2Vec's default), plain LoRA adapters, or full fine-tuning (default dora).");
    private readonly Option<int?> _loraR = Opt<int?>("--lora-r", "r", "Adapter rank (default 16, VLM2Vec-V2.0; V1 used 8).");
    private readonly Option<double?> _loraAlpha = Opt<double?>("--lora-alpha", "alpha", "Adapter alpha (default 64).");
    private readonly Option<double?> _loraDropout = Opt<double?>("--lora-dropout", "p", "Adapter dropout (default 0.1).");
    private readonly Option<string[]> _loraTargets = Opt<string[]>("--lora-targets", "names", "Module-name suffixes to adapt, comma separated or repeated (default: q/k/v/o/gate/up/down_proj of the language model).");
    private readonly Option<bool> _freezeVision = Opt<bool>("--freeze-vision", null, "In full mode, keep the vision tower frozen (LoRA modes always do).");
    private readonly Option<string[]> _freeze = Opt<string[]>("--freeze", "prefix", "Keep parameters whose name starts with this frozen (e.g. model.embed_tokens); repeatable.");
    private readonly Option<double?> _temperature = Opt<double?>("--temperature", "t", "InfoNCE temperature (default 0.02).");
    private readonly Option<bool> _symmetric = Opt<bool>("--symmetric", null, "Add the target-to-query direction to the loss (the reference trains query-to-target only).");
    private readonly Option<int?> _hardNegatives = Opt<int?>("--hard-negatives", "k", "Hard negatives per query from neg_text/neg_image_path (default 0: in-batch negatives only).");
    private readonly Option<int?> _batchSize = Opt<int?>("--batch-size", "n", "Queries per optimiser step (default 64).");
    private readonly Option<int?> _queryChunk = Opt<int?>("--query-chunk", "n", "GradCache query chunk (default 8).");
    private readonly Option<int?> _targetChunk = Opt<int?>("--target-chunk", "n", "GradCache target chunk (default 8).");
    private readonly Option<bool> _noGradCache = Opt<bool>("--no-grad-cache", null, "One plain forward/backward per side instead of GradCache (memory grows with the batch).");
    private readonly Option<bool> _noShuffle = Opt<bool>("--no-shuffle", null, "Keep the file order (default: a seeded shuffle every epoch).");
    private readonly Option<bool> _homogeneous = Opt<bool>("--homogeneous-batches", null, "Every batch from one dataset (VLM2Vec V2).");
    private readonly Option<int?> _maxSteps = Opt<int?>("--max-steps", "n", "Optimiser steps (default: from --epochs).");
    private readonly Option<double?> _epochs = Opt<double?>("--epochs", "n", "Passes over the data when --max-steps is not given (default 1; fractions allowed).");
    private readonly Option<string> _timeLimit = Opt<string>("--time-limit", "duration", "Stop after this long (90s, 15m, 2h) with a checkpoint and the outputs of the weights so far.");
    private readonly Option<double?> _lr = Opt<double?>("--lr", "rate", "Peak learning rate (default 5e-5).");
    private readonly Option<int?> _warmupSteps = Opt<int?>("--warmup-steps", "n", "Linear warmup steps (default: 5% of the steps).");
    private readonly Option<double?> _warmupRatio = Opt<double?>("--warmup-ratio", "r", "Warmup as a fraction of the steps (default 0.05).");
    private readonly Option<double?> _weightDecay = Opt<double?>("--weight-decay", "w", "AdamW weight decay (default 0).");
    private readonly Option<double?> _maxGradNorm = Opt<double?>("--max-grad-norm", "n", "Gradient clipping norm (default 1.0; 0 disables).");
    private readonly Option<long?> _seed = Opt<long?>("--seed", "n", "Seed of everything random: data order, adapter init, dropout (default 42).");
    private readonly Option<string> _promptStyle = Opt<string>("--prompt-style", "v1|v2", "Prompt layout (default v1, the MMEB strings).");
    private readonly Option<int?> _maxTokens = Opt<int?>("--max-tokens", "n", "Token limit per input (longer text is cut with a warning).");
    private readonly Option<long?> _minPixels = Opt<long?>("--min-pixels", "n", "Image pixel budget minimum (written into the output's preprocessor_config.json).");
    private readonly Option<long?> _maxPixels = Opt<long?>("--max-pixels", "n", "Image pixel budget maximum, e.g. 200704 (256 tokens); written into the output's preprocessor_config.json.");
    private readonly Option<string> _output = Opt<string>("--output", "dir", "Run folder: checkpoints, training_log.jsonl, training_args.json, adapter/ and model/.");
    private readonly Option<string> _resume = Opt<string>("--resume", "auto|never|dir", "Continue from the output folder's latest checkpoint (auto, default), refuse an existing run (never), or resume from this checkpoint folder.");
    private readonly Option<int?> _saveEvery = Opt<int?>("--save-every", "n", "Checkpoint every n steps (default 500; always at the end and on Ctrl+C).");
    private readonly Option<int?> _keep = Opt<int?>("--keep-checkpoints", "n", "Step checkpoints kept (default 2).");
    private readonly Option<bool> _merge = Opt<bool>("--merge", null, "LoRA modes: also write the adapter merged into the base as model/.");
    private readonly Option<int?> _threads = Opt<int?>("--threads", "n", "libtorch threads (default: one per core, less one with --overlap; fewer can be faster on a busy machine).");
    private readonly Option<bool> _overlap = Opt<bool>("--overlap", null, "Prepare images beside the model instead of between model calls (faster with costly images; exposes a TorchSharp finalizer race, see docs/training.md).");
    private readonly Option<bool> _gradCacheStrict = Opt<bool>("--gradcache-strict", null, "GradCache's second pass forwards every chunk again (spec 1.7 to the letter: the same gradients, slower; by default the last chunk of each side keeps its graph).");
    private readonly Option<bool> _gradCacheRecomputeFeatures = Opt<bool>("--gradcache-recompute-features", null, "With GradCache and a frozen vision tower, the second pass prepares the images and runs the tower again instead of reusing the first pass's image features (spec 1.7 to the letter: the same gradients, slower; keeps no features, which take at most 256 MiB per step).");
    private readonly Option<bool> _keepBatchImages = Opt<bool>("--keep-batch-images", null, "With GradCache, keep the batch's processed images in memory instead of processing them again per chunk (faster, more memory).");

    public TrainCommand(CliRun run)
        : base("train", "Contrastive fine-tuning (VLM2Vec: InfoNCE, GradCache, LoRA/DoRA or full) of a Qwen2-VL model on image/text pairs.", run)
    {
        foreach (var option in AllOptions())
        {
            Options.Add(option);
        }
    }

    public override string HelpEpilogue =>
        """
        Data rows (JSON lines, MMEB-train columns; <|image_1|> marks the image in a text):
          {"qry": "<|image_1|>\nRepresent the given image for classification\n", "qry_image_path": "img/1.png", "pos_text": "sneaker"}

        Progress shows loss, learning rate, pairs/s and the time left. Ctrl+C stops after the current step and saves a
        checkpoint; the same command continues from it. The final folder (adapter/ or model/) is printed on stdout.

        Examples:
          vlm2vec train --model ./Qwen2-VL-2B-Instruct --data train.jsonl --output runs/a --max-steps 2000 --batch-size 1024
          vlm2vec train --config train.json --lr 1e-4
          vlm2vec train --init-config tiny.json --tokenizer ./qwen2-vl --mode full --data fashion.jsonl --output runs/f
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        parseResult = WithConfigFile(parseResult);
        var logger = context.CreateLogger("Vlm2Vec.Training");
        var options = BuildOptions(parseResult);
        var examples = ReadData(parseResult, options.BadRows, logger);
        context.WriteStatus(new Markup($"[bold]train[/] {Markup.Escape(options.Mode == FineTuningMode.Full ? "full" : options.Adapter.UseDora ? "DoRA" : "LoRA")} on {examples.Count:N0} rows → {Markup.Escape(options.OutputFolder)}\n"));

        using var trainer = ContrastiveTrainer.Create(options, logger);
        var result = await TrainProgressView.RunAsync(context, view => trainer.TrainAsync(examples, view, cancellationToken)).ConfigureAwait(false);
        WriteSummary(context, result, trainer.TrainableParameterCount);
        if (result.Cancelled)
        {
            context.Error.MarkupLine($"Checkpoint saved: [blue]{Markup.Escape(result.LastCheckpoint ?? "(none)")}[/]; run the same command again to continue.");
            throw new OperationCanceledException(cancellationToken);
        }

        if (!result.Completed)
        {
            context.Error.MarkupLine(
                $"Time limit reached at step {result.Steps} of {result.TotalSteps}; the outputs hold the weights so far and checkpoint [blue]{Markup.Escape(result.LastCheckpoint ?? "(none)")}[/] was saved. Run the same command with a longer or no --time-limit to continue.");
        }

        context.WriteResultLine(result.ModelFolder ?? result.AdapterFolder ?? options.OutputFolder);
        return ExitCodes.Success;
    }

    private IEnumerable<Option> AllOptions() =>
    [
        _config, _data, _imageRoot, _badRows, _model, _adapter, _initConfig, _initSeed, _tokenizer, _dtype, _mode, _loraR, _loraAlpha, _loraDropout, _loraTargets,
        _freezeVision, _freeze, _temperature, _symmetric, _hardNegatives, _batchSize, _queryChunk, _targetChunk, _noGradCache, _noShuffle, _homogeneous,
        _maxSteps, _epochs, _timeLimit, _lr, _warmupSteps, _warmupRatio, _weightDecay, _maxGradNorm, _seed, _promptStyle, _maxTokens, _minPixels, _maxPixels,
        _output, _resume, _saveEvery, _keep, _merge, _threads, _overlap, _keepBatchImages, _gradCacheStrict, _gradCacheRecomputeFeatures,
    ];

    /// <summary>The command line with the options of <c>--config</c> merged in (the command line wins).</summary>
    internal ParseResult WithConfigFile(ParseResult parseResult)
    {
        if (parseResult.GetValue(_config) is not { } configPath)
        {
            return parseResult;
        }

        var merged = TrainConfigFile.Merge(parseResult, configPath, AllOptions());
        return merged.Errors.Count > 0 ? throw new CliUsageException($"--config '{configPath}': {merged.Errors[0].Message}") : merged;
    }

    /// <summary>The library options for a parsed command line (config already merged).</summary>
    internal ContrastiveTrainingOptions BuildOptions(ParseResult p)
    {
        var output = p.GetValue(_output) ?? throw new CliUsageException("--output is required: the run folder for checkpoints and results.");
        var model = p.GetValue(_model);
        var initConfig = p.GetValue(_initConfig);
        if ((model is null) == (initConfig is null))
        {
            throw new CliUsageException("Give exactly one of --model (a Qwen2-VL folder to fine-tune) and --init-config (a config.json to train from scratch).");
        }

        var modeText = (p.GetValue(_mode) ?? (initConfig is null ? "dora" : "full")).ToLowerInvariant();
        var mode = modeText switch
        {
            "dora" or "lora" => FineTuningMode.Lora,
            "full" => FineTuningMode.Full,
            _ => throw new CliUsageException($"--mode '{modeText}' is not one of dora, lora, full."),
        };

        var adapter = LoraConfig.Vlm2VecV2 with { UseDora = modeText != "lora" };
        if (p.GetValue(_loraR) is { } r)
        {
            adapter = adapter with { R = r };
        }

        if (p.GetValue(_loraAlpha) is { } alpha)
        {
            adapter = adapter with { LoraAlpha = alpha };
        }

        if (p.GetValue(_loraDropout) is { } dropout)
        {
            adapter = adapter with { LoraDropout = dropout };
        }

        if (p.GetValue(_loraTargets) is { Length: > 0 } targets)
        {
            adapter = adapter with { TargetModules = [.. targets.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))] };
        }

        var resume = (p.GetValue(_resume) ?? "auto").Trim();
        var defaults = new ContrastiveTrainingOptions { OutputFolder = output };
        var noGradCache = p.GetValue(_noGradCache);
        var image = new Qwen2VlImageProcessorOptions { MinPixels = p.GetValue(_minPixels), MaxPixels = p.GetValue(_maxPixels) };
        var style = (p.GetValue(_promptStyle) ?? "v1").ToLowerInvariant() switch
        {
            "v1" => PromptStyle.V1,
            "v2" => PromptStyle.V2,
            var other => throw new CliUsageException($"--prompt-style '{other}' is not one of v1, v2."),
        };

        return defaults with
        {
            BaseModelFolder = model,
            InitialAdapterFolder = p.GetValue(_adapter),
            InitConfigPath = initConfig,
            InitSeed = p.GetValue(_initSeed),
            TokenizerFolder = p.GetValue(_tokenizer),
            DType = ParseDType(p.GetValue(_dtype)),
            Preprocessing = new PreprocessorOptions { PromptStyle = style, MaxTokens = p.GetValue(_maxTokens), ImageProcessor = image },
            Resume = resume.Equals("never", StringComparison.OrdinalIgnoreCase) ? ResumeBehavior.Never : ResumeBehavior.Auto,
            ResumeFromCheckpoint = resume.Equals("auto", StringComparison.OrdinalIgnoreCase) || resume.Equals("never", StringComparison.OrdinalIgnoreCase) ? null : resume,
            SaveEverySteps = p.GetValue(_saveEvery) ?? defaults.SaveEverySteps,
            KeepCheckpoints = p.GetValue(_keep) ?? defaults.KeepCheckpoints,
            MergeAdapter = p.GetValue(_merge),
            Temperature = p.GetValue(_temperature) ?? defaults.Temperature,
            SymmetricLoss = p.GetValue(_symmetric),
            HardNegatives = p.GetValue(_hardNegatives) ?? 0,
            BatchSize = p.GetValue(_batchSize) ?? defaults.BatchSize,
            QueryChunkSize = noGradCache ? null : p.GetValue(_queryChunk) ?? defaults.QueryChunkSize,
            TargetChunkSize = noGradCache ? null : p.GetValue(_targetChunk) ?? defaults.TargetChunkSize,
            Shuffle = !p.GetValue(_noShuffle),
            HomogeneousBatches = p.GetValue(_homogeneous),
            BadRows = ParseBadRows(p.GetValue(_badRows)),
            MaxSteps = p.GetValue(_maxSteps),
            Epochs = p.GetValue(_epochs) ?? defaults.Epochs,
            TimeLimit = p.GetValue(_timeLimit) is { } limit ? ParseDuration(limit) : null,
            LearningRate = p.GetValue(_lr) ?? defaults.LearningRate,
            WarmupSteps = p.GetValue(_warmupSteps),
            WarmupRatio = p.GetValue(_warmupRatio) ?? defaults.WarmupRatio,
            WeightDecay = p.GetValue(_weightDecay) ?? defaults.WeightDecay,
            MaxGradNorm = p.GetValue(_maxGradNorm) ?? defaults.MaxGradNorm,
            Seed = p.GetValue(_seed) ?? defaults.Seed,
            Threads = p.GetValue(_threads),
            OverlapPreprocessing = p.GetValue(_overlap),
            KeepBatchImages = p.GetValue(_keepBatchImages),
            GradCacheKeepLastChunkGraphs = !p.GetValue(_gradCacheStrict),
            GradCacheReuseVisionFeatures = !p.GetValue(_gradCacheRecomputeFeatures),
            Mode = mode,
            Adapter = adapter,
            TrainVisionTower = mode == FineTuningMode.Full ? !p.GetValue(_freezeVision) : null,
            FrozenParameterPrefixes = p.GetValue(_freeze) ?? [],
        };
    }

    private List<ContrastiveExample> ReadData(ParseResult p, BadRowPolicy policy, Microsoft.Extensions.Logging.ILogger logger)
    {
        var files = p.GetValue(_data) ?? [];
        if (files.Length == 0)
        {
            throw new CliUsageException("--data is required: one or more MMEB-train style .jsonl files.");
        }

        var examples = new List<ContrastiveExample>();
        foreach (var file in files)
        {
            var read = MmebTrainingData.ReadJsonl(file, new MmebJsonlReadOptions { ImageRoot = p.GetValue(_imageRoot), BadRows = policy }, logger);
            examples.AddRange(read.Examples);
        }

        return examples;
    }

    internal static TimeSpan ParseDuration(string text)
    {
        var value = text.Trim();
        var unit = value.Length > 0 && char.IsLetter(value[^1]) ? char.ToLowerInvariant(value[^1]) : 's';
        var number = char.IsLetter(value[^1]) ? value[..^1] : value;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            throw new CliUsageException($"--time-limit '{text}' is not a duration such as 90s, 15m or 2h.");
        }

        return unit switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            _ => throw new CliUsageException($"--time-limit '{text}' has an unknown unit; use s, m or h."),
        };
    }

    private static ScalarType ParseDType(string? text) => (text ?? "fp32").ToLowerInvariant() switch
    {
        "fp32" or "float32" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        var other => throw new CliUsageException($"--dtype '{other}' is not one of fp32, bf16."),
    };

    private static BadRowPolicy ParseBadRows(string? text) => (text ?? "skip").ToLowerInvariant() switch
    {
        "skip" => BadRowPolicy.Skip,
        "fail" => BadRowPolicy.Fail,
        var other => throw new CliUsageException($"--bad-rows '{other}' is not one of skip, fail."),
    };

    private static void WriteSummary(CliContext context, TrainingResult result, long trainable)
    {
        if (context.Quiet)
        {
            return;
        }

        var table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        void Row(string label, string value) => table.AddRow(new Text(label, new Style(decoration: Decoration.Bold)), new Text(value));
        var state = result.Completed ? "completed" : result.Cancelled ? "interrupted" : result.TimedOut ? "stopped at the time limit" : "stopped";
        Row("status", state);
        Row("steps", string.Create(CultureInfo.InvariantCulture, $"{result.Steps} of {result.TotalSteps}{(result.ResumedFromStep is { } from ? $" (resumed from step {from})" : string.Empty)}"));
        Row("final loss", result.FinalLoss.ToString("0.0000", CultureInfo.InvariantCulture));
        Row("mean loss (last 50 steps)", result.RecentMeanLoss.ToString("0.0000", CultureInfo.InvariantCulture));
        Row("pairs trained", result.Examples.ToString("N0", CultureInfo.InvariantCulture));
        Row("pairs/s", result.ExamplesPerSecond.ToString("0.0", CultureInfo.InvariantCulture));
        Row("wall time", result.Elapsed.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture));
        Row("trainable parameters", trainable.ToString("N0", CultureInfo.InvariantCulture));
        Row("rows skipped", result.SkippedRows.ToString(CultureInfo.InvariantCulture));
        if (result.AdapterFolder is { } adapterFolder)
        {
            Row("adapter", adapterFolder);
        }

        if (result.ModelFolder is { } modelFolder)
        {
            Row("model", modelFolder);
        }

        if (result.LastCheckpoint is { } checkpoint)
        {
            Row("last checkpoint", checkpoint);
        }

        context.WriteStatus(table);
    }

    private static Option<T> Opt<T>(string name, string? helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        AllowMultipleArgumentsPerToken = false,
    };
}
