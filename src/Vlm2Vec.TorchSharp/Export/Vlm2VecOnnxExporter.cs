using System.Reflection;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Onnx;
using Vlm2Vec.TorchSharp.Peft;
using static global::TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Export;

/// <summary>
/// Exports a Qwen2-VL VLM2Vec model to the ONNX model bundle (docs/architecture.md, "The model bundle"): a vision graph
/// and a text graph written op by op (the way onnxruntime-genai's model builder writes graphs, not by tracing), weights
/// in external data files so models over 2 GB work, the tokenizer, processor and model configs, and the manifest
/// <c>vlm2vec.json</c> with every file's size and SHA-256. Everything is checked before anything is written, the bundle is
/// assembled in a hidden staging folder beside the target and moved into place only when complete: a cancelled or
/// failed export never leaves a folder that looks like a bundle.
/// </summary>
public static class Vlm2VecOnnxExporter
{
    /// <summary>The graph files of a bundle.</summary>
    internal const string VisionGraphFileName = "vision.onnx";

    /// <summary>The text graph file of a bundle.</summary>
    internal const string TextGraphFileName = "text.onnx";

    /// <summary>
    /// Exports a Hugging Face checkpoint folder (<c>config.json</c> + safetensors / <c>.bin</c>, sharded or not), merging
    /// an optional PEFT LoRA/DoRA adapter, to the bundle folder <paramref name="to"/>.
    /// </summary>
    /// <param name="from">The checkpoint folder.</param>
    /// <param name="adapter">A PEFT adapter folder (<c>adapter_config.json</c> + weights) to merge, or null.</param>
    /// <param name="to">The bundle folder to create.</param>
    /// <param name="options">Dtype, model id, progress…</param>
    /// <param name="cancellationToken">Cancels the export; nothing is left at <paramref name="to"/>.</param>
    /// <returns>The written bundle's manifest.</returns>
    /// <exception cref="ModelFormatException">Unsupported architecture, missing or unusable files, weights that do not fit
    /// the config, an adapter for another base model, a tokenizer that does not match the model.</exception>
    /// <exception cref="IOException">The target exists and is not a bundle, or exists without <see cref="Vlm2VecExportOptions.Overwrite"/>.</exception>
    public static Task<Vlm2VecBundleManifest> ExportAsync(string from, string? adapter, string to, Vlm2VecExportOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        options ??= new Vlm2VecExportOptions();
        return Task.Run(() => ExportCheckpoint(from, adapter, to, options, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Exports an in-memory model given as its config and state dict (canonical Hugging Face names, as the TorchSharp
    /// model's <c>state_dict()</c> has them; any float dtype). <see cref="Vlm2VecExportOptions.TokenizerFolder"/> must name
    /// the folder with <c>tokenizer.json</c> and <c>preprocessor_config.json</c>. The tensors are read, not modified.
    /// </summary>
    /// <exception cref="ModelFormatException">Weights that do not fit the config, an unsupported architecture, a missing or
    /// mismatched tokenizer.</exception>
    public static Task<Vlm2VecBundleManifest> ExportAsync(
        Qwen2VlConfig config,
        IReadOnlyDictionary<string, Tensor> stateDict,
        string to,
        Vlm2VecExportOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentException.ThrowIfNullOrEmpty(to);
        ArgumentNullException.ThrowIfNull(options);
        if (options.TokenizerFolder is null)
        {
            throw new ArgumentException("Exporting an in-memory model needs Vlm2VecExportOptions.TokenizerFolder (tokenizer.json, preprocessor_config.json).", nameof(options));
        }

        return Task.Run(
            () =>
            {
                TorchSharpRuntime.EnsureLoaded();
                var sources = ExportSources.Resolve(config, options.TokenizerFolder, null, null, configJson: null);
                var target = PrepareTarget(to, options.Overwrite);
                var source = new ExportSource(config, "in-memory model", null, options.ModelId ?? "vlm2vec-qwen2vl", sources);
                return Write(stateDict, source, target, options, cancellationToken);
            },
            cancellationToken);
    }

    private static Vlm2VecBundleManifest ExportCheckpoint(string from, string? adapterFolder, string to, Vlm2VecExportOptions options, CancellationToken cancellationToken)
    {
        TorchSharpRuntime.EnsureLoaded();
        options.Progress?.Report(new Vlm2VecExportProgress(Vlm2VecExportStage.Validating, from, 0, 0));
        var checkpoint = CheckpointFolder.Open(from);
        var config = checkpoint.LoadConfig();
        var configPath = checkpoint.ConfigPath!;
        if (adapterFolder is not null && !Directory.Exists(adapterFolder))
        {
            throw new ModelFormatException($"Adapter folder '{adapterFolder}' does not exist.");
        }

        var files = ExportSources.Resolve(config, options.TokenizerFolder, adapterFolder, checkpoint.FolderPath, File.ReadAllBytes(configPath));
        var target = PrepareTarget(to, options.Overwrite);
        var modelId = options.ModelId ?? FolderName(adapterFolder ?? checkpoint.FolderPath);
        var source = new ExportSource(config, checkpoint.FolderPath, adapterFolder is null ? null : Path.GetFullPath(adapterFolder), modelId, files);

        using var adapter = adapterFolder is null ? null : PeftAdapter.Load(adapterFolder);
        var loadProgress = options.Progress is null
            ? null
            : new SynchronousProgress<CheckpointLoadProgress>(p => options.Progress.Report(
                new Vlm2VecExportProgress(Vlm2VecExportStage.LoadingWeights, Path.GetFileName(p.FilePath), p.BytesLoaded, p.TotalBytes)));
        var stateDict = checkpoint.LoadStateDict(new CheckpointLoadOptions { Adapter = adapter, SkipLanguageModelHead = true }, loadProgress, cancellationToken);

        // The loader counts tensor bytes (headers and skipped tensors are not reported): close the stage at 100 %.
        var weightBytes = checkpoint.WeightFiles.Sum(f => new FileInfo(f).Length);
        options.Progress?.Report(new Vlm2VecExportProgress(Vlm2VecExportStage.LoadingWeights, null, weightBytes, weightBytes));
        try
        {
            return Write(stateDict, source, target, options, cancellationToken);
        }
        finally
        {
            foreach (var tensor in stateDict.Values)
            {
                tensor.Dispose();
            }
        }
    }

    private static Vlm2VecBundleManifest Write(IReadOnlyDictionary<string, Tensor> stateDict, ExportSource source, string target, Vlm2VecExportOptions options, CancellationToken cancellationToken)
    {
        var config = source.Config;
        Qwen2VlWeightShapes.Validate(config, stateDict, source.Checkpoint);
        var graphOptions = options.GraphOptions ?? DefaultGraphOptions(options.DType);
        if (options.Float16EmbeddingTable && graphOptions.DType == DataType.Float)
        {
            graphOptions = graphOptions with { EmbeddingTableDType = DataType.Float16 };
        }

        var weights = new ExportWeights(stateDict, graphOptions.DType);
        var graphs = new Qwen2VlOnnxGraphs(config, weights, graphOptions);

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var vision = WriteGraph(staging, VisionGraphFileName, Vlm2VecBundleGraph.VisionRole, Vlm2VecExportStage.WritingVisionGraph, graphs.BuildVision, source, graphOptions, options, cancellationToken);
            var text = WriteGraph(staging, TextGraphFileName, Vlm2VecBundleGraph.TextRole, Vlm2VecExportStage.WritingTextGraph, graphs.BuildText, source, graphOptions, options, cancellationToken);

            options.Progress?.Report(new Vlm2VecExportProgress(Vlm2VecExportStage.CopyingFiles, null, 0, source.Files.Count));
            var copied = 0;
            foreach (var (name, bytes) in source.Files.Contents)
            {
                cancellationToken.ThrowIfCancellationRequested();
                File.WriteAllBytes(Path.Combine(staging, name), bytes);
                options.Progress?.Report(new Vlm2VecExportProgress(Vlm2VecExportStage.CopyingFiles, name, ++copied, source.Files.Count));
            }

            var (visionInputs, visionOutputs) = Qwen2VlOnnxGraphs.VisionInterface(config);
            var (textInputs, textOutputs) = Qwen2VlOnnxGraphs.TextInterface(config, graphOptions.IncludeLastHiddenState);
            var relativeFiles = new List<string> { VisionGraphFileName };
            AddIfPresent(relativeFiles, vision.ExternalDataPath);
            relativeFiles.Add(TextGraphFileName);
            AddIfPresent(relativeFiles, text.ExternalDataPath);
            relativeFiles.AddRange(source.Files.Contents.Select(f => f.Name));

            var totalBytes = relativeFiles.Sum(f => new FileInfo(Path.Combine(staging, f)).Length);
            long hashed = 0;
            var fileEntries = new List<Vlm2VecBundleFile>();
            foreach (var file in relativeFiles)
            {
                options.Progress?.Report(new Vlm2VecExportProgress(Vlm2VecExportStage.WritingManifest, file, hashed, totalBytes));
                var entry = Vlm2VecBundleFile.FromFile(staging, file, cancellationToken);
                fileEntries.Add(entry);
                hashed += entry.Bytes;
            }

            var manifest = new Vlm2VecBundleManifest
            {
                Architecture = config.ModelType,
                ModelId = source.ModelId,
                EmbeddingDimension = config.HiddenSize,
                DType = ManifestDType(graphOptions),
                PadTokenId = source.Files.PadTokenId,
                Graphs =
                [
                    new Vlm2VecBundleGraph { Role = Vlm2VecBundleGraph.VisionRole, File = VisionGraphFileName, DataFile = vision.ExternalDataPath is null ? null : Path.GetFileName(vision.ExternalDataPath), Inputs = visionInputs, Outputs = visionOutputs },
                    new Vlm2VecBundleGraph { Role = Vlm2VecBundleGraph.TextRole, File = TextGraphFileName, DataFile = text.ExternalDataPath is null ? null : Path.GetFileName(text.ExternalDataPath), Inputs = textInputs, Outputs = textOutputs },
                ],
                DefaultInstructions = options.DefaultInstructions is null
                    ? new Dictionary<string, string>(StringComparer.Ordinal)
                    : new Dictionary<string, string>(options.DefaultInstructions, StringComparer.Ordinal),
                Limits = new Vlm2VecBundleLimits
                {
                    MaxTokens = options.MaxTokens ?? config.MaxPositionEmbeddings,
                    MinPixels = source.Files.MinPixels,
                    MaxPixels = source.Files.MaxPixels,
                },
                Files = fileEntries,
                Provenance = new Vlm2VecBundleProvenance
                {
                    SourceCheckpoint = source.Checkpoint,
                    Adapter = source.Adapter,
                    Exporter = "Vlm2Vec.TorchSharp",
                    ExporterVersion = ExporterVersion,
                    ExportedAt = DateTimeOffset.UtcNow,
                    OnnxOpset = graphOptions.OpsetVersion,
                },
            };
            File.WriteAllText(Path.Combine(staging, Vlm2VecBundleManifest.FileName), manifest.ToJson());

            // The finished bundle must open: the same checks every encoder makes at load.
            options.Progress?.Report(new Vlm2VecExportProgress(Vlm2VecExportStage.Finishing, target, 0, 1));
            _ = Vlm2VecBundle.Open(staging, cancellationToken: cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            MoveIntoPlace(staging, target);
            options.Progress?.Report(new Vlm2VecExportProgress(Vlm2VecExportStage.Finishing, target, 1, 1));
            return manifest;
        }
        finally
        {
            TryDelete(staging);
        }
    }

    private static OnnxWrittenModel WriteGraph(
        string staging,
        string fileName,
        string role,
        Vlm2VecExportStage stage,
        Action<OnnxGraphBuilder> build,
        ExportSource source,
        Qwen2VlGraphOptions graphOptions,
        Vlm2VecExportOptions options,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var builder = new OnnxGraphBuilder(new OnnxGraphBuilderOptions
        {
            OpsetVersion = graphOptions.OpsetVersion,
            GraphName = $"vlm2vec_{role}",
            DocString = $"VLM2Vec {source.ModelId}: Qwen2-VL {role} graph ({ManifestDType(graphOptions)})",
        });
        build(builder);
        builder.AddMetadata("vlm2vec.role", role);
        builder.AddMetadata("vlm2vec.model_id", source.ModelId);
        builder.AddMetadata("vlm2vec.architecture", source.Config.ModelType);
        var progress = options.Progress is null
            ? null
            : new SynchronousProgress<OnnxWriteProgress>(p => options.Progress.Report(new Vlm2VecExportProgress(stage, p.TensorName, p.BytesWritten, p.TotalBytes)));

        // Page-aligned tensors let ORT memory-map the weights.
        return OnnxModelWriter.Write(builder, Path.Combine(staging, fileName), new OnnxWriteOptions { ExternalDataAlignment = 4096 }, progress, cancellationToken);
    }

    /// <summary>The graph settings each dtype is meant for: CPU-friendly float32, CUDA-friendly float16.</summary>
    internal static Qwen2VlGraphOptions DefaultGraphOptions(Vlm2VecExportDType dtype) => dtype switch
    {
        // ORT's CPU provider runs Add + (Simplified)LayerNormalization faster than the fused Skip* kernels (measured:
        // Onnx/README.md, the ort-vs-torchsharp benchmark's variants); CUDA is where the fused kernels pay off.
        Vlm2VecExportDType.Float32 => new Qwen2VlGraphOptions { DType = DataType.Float, FusedDecoderSkipNorms = false, FusedVisionSkipNorms = false },
        Vlm2VecExportDType.Float16 => new Qwen2VlGraphOptions { DType = DataType.Float16, FusedDecoderSkipNorms = true, FusedVisionSkipNorms = true },

        // The float32 CPU graph with its projections in int8 (DynamicQuantizeMatMul: see Onnx/README.md for the choice).
        Vlm2VecExportDType.Int8 => new Qwen2VlGraphOptions { DType = DataType.Float, FusedDecoderSkipNorms = false, FusedVisionSkipNorms = false, Int8Projections = true },
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Export dtype must be Float32, Float16 or Int8."),
    };

    /// <summary>The manifest's <c>dtype</c>: <c>int8</c> for int8 projections, else the activation dtype.</summary>
    private static string ManifestDType(Qwen2VlGraphOptions graphOptions)
    {
        if (graphOptions.Int8Projections)
        {
            if (graphOptions.DType != DataType.Float)
            {
                throw new ArgumentException("Int8 projections need a float32 graph (Qwen2VlGraphOptions.DType = Float).", nameof(graphOptions));
            }

            return "int8";
        }

        return graphOptions.DType == DataType.Float ? "float32" : "float16";
    }

    /// <summary>The full target path, after checking that it may be written.</summary>
    private static string PrepareTarget(string to, bool overwrite)
    {
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(to));
        if (File.Exists(target))
        {
            throw new IOException($"The export target '{target}' is a file; give a folder path.");
        }

        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            var isBundle = File.Exists(Path.Combine(target, Vlm2VecBundleManifest.FileName));
            if (!isBundle)
            {
                throw new IOException($"The export target '{target}' exists and is not a model bundle; choose a new or empty folder.");
            }

            if (!overwrite)
            {
                throw new IOException($"The export target '{target}' already holds a bundle; pass Overwrite (--overwrite) to replace it.");
            }
        }

        return target;
    }

    /// <summary>Moves the finished staging folder to the target, replacing an old bundle only once the new one is complete.</summary>
    private static void MoveIntoPlace(string staging, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(staging, target);
            return;
        }

        var old = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.replaced-{Guid.NewGuid():N}");
        Directory.Move(target, old);
        try
        {
            Directory.Move(staging, target);
        }
        catch
        {
            Directory.Move(old, target);
            throw;
        }

        TryDelete(old);
    }

    private static void AddIfPresent(List<string> files, string? path)
    {
        if (path is not null)
        {
            files.Add(Path.GetFileName(path));
        }
    }

    private static string FolderName(string folder) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));

    private static string ExporterVersion =>
        typeof(Vlm2VecOnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(Vlm2VecOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover hidden staging folder never looks like a bundle.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The model being exported.</summary>
    private sealed record ExportSource(Qwen2VlConfig Config, string Checkpoint, string? Adapter, string ModelId, ExportSources Files);

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress&lt;T&gt; posts to a
    /// synchronisation context, out of order under load).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
