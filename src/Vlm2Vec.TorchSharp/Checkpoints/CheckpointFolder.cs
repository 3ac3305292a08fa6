using System.Text.Json;
using System.Text.Json.Nodes;
using Vlm2Vec.TorchSharp.Peft;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>
/// A Hugging Face checkpoint folder: <c>config.json</c> plus weights as one <c>model.safetensors</c>, sharded safetensors
/// (<c>model.safetensors.index.json</c>), one <c>pytorch_model.bin</c> or sharded <c>.bin</c> pickles
/// (<c>pytorch_model.bin.index.json</c>). Loads yield canonical weight names (<see cref="WeightNames"/>) whatever layout
/// the files use, one tensor at a time, optionally merging a PEFT adapter as they go.
/// </summary>
public sealed class CheckpointFolder
{
    /// <summary>File name of a single safetensors checkpoint.</summary>
    public const string SafetensorsFileName = "model.safetensors";

    /// <summary>File name of a sharded safetensors index.</summary>
    public const string SafetensorsIndexFileName = "model.safetensors.index.json";

    /// <summary>File name of a single PyTorch pickle checkpoint.</summary>
    public const string PyTorchBinFileName = "pytorch_model.bin";

    /// <summary>File name of a sharded PyTorch pickle index.</summary>
    public const string PyTorchBinIndexFileName = "pytorch_model.bin.index.json";

    /// <summary>File name of the model config.</summary>
    public const string ConfigFileName = "config.json";

    private readonly ShardIndex? _index;

    private CheckpointFolder(string folderPath, CheckpointFormat format, IReadOnlyList<string> weightFiles, ShardIndex? index)
    {
        FolderPath = folderPath;
        Format = format;
        WeightFiles = weightFiles;
        _index = index;
    }

    /// <summary>The folder's absolute path.</summary>
    public string FolderPath { get; }

    /// <summary>How the weights are stored.</summary>
    public CheckpointFormat Format { get; }

    /// <summary>The weight files (absolute paths), in load order.</summary>
    public IReadOnlyList<string> WeightFiles { get; }

    /// <summary>The path of <c>config.json</c>, or null when the folder has none.</summary>
    public string? ConfigPath => File.Exists(Path.Combine(FolderPath, ConfigFileName)) ? Path.Combine(FolderPath, ConfigFileName) : null;

    /// <summary>Finds the weights of a checkpoint folder (safetensors preferred over <c>.bin</c>, an index over a single file).</summary>
    /// <exception cref="ModelFormatException">The folder does not exist, holds no weights, or its index is invalid.</exception>
    public static CheckpointFolder Open(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Checkpoint folder '{folder}' does not exist.");
        }

        var root = Path.GetFullPath(folder);
        string In(string name) => Path.Combine(root, name);

        if (File.Exists(In(SafetensorsIndexFileName)))
        {
            var index = ShardIndex.Load(In(SafetensorsIndexFileName));
            return new CheckpointFolder(root, CheckpointFormat.ShardedSafetensors, index.Files.Select(In).ToList(), index);
        }

        if (File.Exists(In(SafetensorsFileName)))
        {
            return new CheckpointFolder(root, CheckpointFormat.Safetensors, [In(SafetensorsFileName)], null);
        }

        if (File.Exists(In(PyTorchBinIndexFileName)))
        {
            var index = ShardIndex.Load(In(PyTorchBinIndexFileName));
            return new CheckpointFolder(root, CheckpointFormat.ShardedPyTorchBin, index.Files.Select(In).ToList(), index);
        }

        if (File.Exists(In(PyTorchBinFileName)))
        {
            return new CheckpointFolder(root, CheckpointFormat.PyTorchBin, [In(PyTorchBinFileName)], null);
        }

        var present = Directory.EnumerateFiles(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(20).ToList();
        var hint = File.Exists(In(PeftAdapter.ConfigFileName))
            ? " It holds a PEFT adapter (adapter_config.json): load the base model its base_model_name_or_path names and pass the adapter as CheckpointLoadOptions.Adapter."
            : string.Empty;
        throw new ModelFormatException(
            $"Checkpoint folder '{root}' has no model weights: expected {SafetensorsFileName}, {SafetensorsIndexFileName}, {PyTorchBinFileName} or {PyTorchBinIndexFileName}; found {(present.Count == 0 ? "no files" : string.Join(", ", present))}.{hint}");
    }

    /// <summary>Reads <c>config.json</c> as a Qwen2-VL config.</summary>
    /// <exception cref="ModelFormatException">No <c>config.json</c>, or not a supported Qwen2-VL config.</exception>
    public Qwen2VlConfig LoadConfig() =>
        Qwen2VlConfig.Load(ConfigPath ?? throw new ModelFormatException($"Checkpoint folder '{FolderPath}' has no {ConfigFileName}."));

    /// <summary>
    /// Loads the weights as a state dict with canonical names. The caller owns (and disposes) the tensors.
    /// </summary>
    /// <exception cref="ModelFormatException">Corrupt files, a name present twice, or an adapter that does not fit.</exception>
    public Dictionary<string, Tensor> LoadStateDict(CheckpointLoadOptions? options = null, IProgress<CheckpointLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new CheckpointLoadOptions();
        ValidateAdapterUpFront(options);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var adapterTargetsSeen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, tensor) in StreamTensors(options, progress, cancellationToken))
            {
                var finalTensor = ApplyAdapter(options.Adapter, name, tensor, options.DType is { } d && SafetensorsDType.IsFloatingPoint(tensor.dtype) ? d : tensor.dtype, adapterTargetsSeen);
                result.Add(name, finalTensor);
            }

            options.Adapter?.ThrowIfTargetsMissing(adapterTargetsSeen, options.IncludeTensor, FolderPath);
        }
        catch
        {
            foreach (var tensor in result.Values)
            {
                tensor.Dispose();
            }

            throw;
        }

        return result;
    }

    /// <summary>
    /// Loads the weights straight into a module's parameters and buffers (matched by name, converted to each module
    /// tensor's type and device), one tensor at a time, so that no second copy of the model is ever held. Safetensors
    /// headers are checked against the module before any data is read.
    /// </summary>
    /// <exception cref="ModelFormatException">One exception naming every missing, unexpected and mis-shaped tensor.</exception>
    public void LoadInto(nn.Module module, CheckpointLoadOptions? options = null, IProgress<CheckpointLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(module);
        options ??= new CheckpointLoadOptions();
        var validation = new StateDictValidationOptions
        {
            TieWordEmbeddings = TieWordEmbeddings(options),
            SkipLanguageModelHead = options.SkipLanguageModelHead,
            IncludeTensor = options.IncludeTensor,
        };

        var targets = module.state_dict();
        var expectedShapes = targets.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        var headerShapes = ReadShapes(options);
        if (headerShapes is not null)
        {
            StateDictValidator.Validate(headerShapes, expectedShapes, validation, FolderPath);
        }

        ValidateAdapterUpFront(options, headerShapes);

        var loadedShapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var adapterTargetsSeen = new HashSet<string>(StringComparer.Ordinal);
        using (no_grad())
        {
            foreach (var (name, tensor) in StreamTensors(options, progress, cancellationToken))
            {
                loadedShapes[name] = tensor.shape;
                if (!targets.TryGetValue(name, out var target) || !target.shape.AsSpan().SequenceEqual(tensor.shape))
                {
                    // Reported below, together with every other mismatch.
                    tensor.Dispose();
                    continue;
                }

                using var source = ApplyAdapter(options.Adapter, name, tensor, target.dtype, adapterTargetsSeen);
                target.copy_(source);
            }

            var mismatch = StateDictValidator.Compare(loadedShapes, expectedShapes, validation);
            if (mismatch is not null)
            {
                throw new ModelFormatException(mismatch.Describe(FolderPath));
            }

            options.Adapter?.ThrowIfTargetsMissing(adapterTargetsSeen, options.IncludeTensor, FolderPath);

            if (validation.TieWordEmbeddings && !options.SkipLanguageModelHead
                && targets.TryGetValue(WeightNames.LanguageModelHeadWeight, out var head) && !loadedShapes.ContainsKey(WeightNames.LanguageModelHeadWeight)
                && targets.TryGetValue(WeightNames.EmbedTokensWeight, out var embeddings) && loadedShapes.ContainsKey(WeightNames.EmbedTokensWeight)
                && !ReferenceEquals(head, embeddings) && head.shape.AsSpan().SequenceEqual(embeddings.shape))
            {
                head.copy_(embeddings);
            }
        }
    }

    /// <summary>
    /// Canonical names and shapes of the checkpoint's tensors read from the safetensors headers (no tensor data), or null
    /// for <c>.bin</c> checkpoints, whose shapes are only known once unpickled.
    /// </summary>
    internal Dictionary<string, long[]>? ReadShapes(CheckpointLoadOptions options)
    {
        if (Format is not (CheckpointFormat.Safetensors or CheckpointFormat.ShardedSafetensors))
        {
            return null;
        }

        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var storedNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in WeightFiles)
        {
            using var safetensors = SafetensorsFile.Open(file);
            foreach (var info in SelectedEntries(safetensors))
            {
                var canonical = Canonical(info.Name, storedNames, file);
                if (Included(canonical, options))
                {
                    shapes[canonical] = [.. info.Shape];
                }
            }
        }

        return shapes;
    }

    /// <summary>Whether the config says the head is tied (the option wins).</summary>
    internal bool TieWordEmbeddings(CheckpointLoadOptions options)
    {
        if (options.TieWordEmbeddings is { } tie)
        {
            return tie;
        }

        var path = ConfigPath;
        if (path is null)
        {
            return false;
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            var node = root?["tie_word_embeddings"] ?? (root?["text_config"] as JsonObject)?["tie_word_embeddings"];
            return node is JsonValue v && v.TryGetValue<bool>(out var value) && value;
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Model config '{path}' is not valid JSON: {ex.Message}", ex);
        }
    }

    private void ValidateAdapterUpFront(CheckpointLoadOptions options, Dictionary<string, long[]>? shapes = null)
    {
        if (options.Adapter is null)
        {
            return;
        }

        shapes ??= ReadShapes(options);
        if (shapes is not null)
        {
            options.Adapter.ValidateAgainst(shapes, options.IncludeTensor, FolderPath);
        }
    }

    private static Tensor ApplyAdapter(PeftAdapter? adapter, string name, Tensor tensor, ScalarType resultType, HashSet<string> targetsSeen)
    {
        if (adapter is not null && adapter.TryMerge(name, tensor, resultType, out var merged))
        {
            targetsSeen.Add(name);
            tensor.Dispose();
            return merged;
        }

        if (tensor.dtype == resultType)
        {
            return tensor;
        }

        var converted = tensor.to(resultType);
        tensor.Dispose();
        return converted;
    }

    private IEnumerable<(string Name, Tensor Tensor)> StreamTensors(CheckpointLoadOptions options, IProgress<CheckpointLoadProgress>? progress, CancellationToken cancellationToken)
    {
        var totalBytes = WeightFiles.Sum(f => new FileInfo(f).Length);
        var storedNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensorsLoaded = 0;
        long bytesLoaded = 0;
        var binary = Format is CheckpointFormat.PyTorchBin or CheckpointFormat.ShardedPyTorchBin;
        for (var fileIndex = 0; fileIndex < WeightFiles.Count; fileIndex++)
        {
            var file = WeightFiles[fileIndex];
            cancellationToken.ThrowIfCancellationRequested();
            if (binary)
            {
                var all = PyTorchBinReader.Read(file);
                try
                {
                    var wanted = _index is null ? null : new HashSet<string>(_index.WeightMap.Where(kv => kv.Value == Path.GetFileName(file)).Select(kv => kv.Key), StringComparer.Ordinal);
                    var absent = wanted?.Where(n => !all.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
                    if (absent is { Count: > 0 })
                    {
                        throw new ModelFormatException($"'{file}' lacks {absent.Count} tensor(s) its index assigns to it: {string.Join(", ", absent.Take(20))}.");
                    }

                    foreach (var storedName in all.Keys.Order(StringComparer.Ordinal).ToList())
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var tensor = all[storedName];
                        all.Remove(storedName);
                        var canonical = Canonical(storedName, storedNames, file);
                        if ((wanted is not null && !wanted.Contains(storedName)) || !Included(canonical, options))
                        {
                            tensor.Dispose();
                            continue;
                        }

                        tensorsLoaded++;
                        bytesLoaded += tensor.numel() * tensor.ElementSize;
                        progress?.Report(new CheckpointLoadProgress(fileIndex, WeightFiles.Count, file, tensorsLoaded, bytesLoaded, totalBytes));
                        yield return (canonical, tensor);
                    }
                }
                finally
                {
                    foreach (var left in all.Values)
                    {
                        left.Dispose();
                    }
                }
            }
            else
            {
                using var safetensors = SafetensorsFile.Open(file);
                foreach (var info in SelectedEntries(safetensors))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var canonical = Canonical(info.Name, storedNames, file);
                    if (!Included(canonical, options))
                    {
                        continue;
                    }

                    var tensor = safetensors.ReadTensor(info.Name);
                    tensorsLoaded++;
                    bytesLoaded += info.ByteLength;
                    progress?.Report(new CheckpointLoadProgress(fileIndex, WeightFiles.Count, file, tensorsLoaded, bytesLoaded, totalBytes));
                    yield return (canonical, tensor);
                }
            }
        }
    }

    /// <summary>The entries of a safetensors file that this checkpoint loads from it (for shards: those its index assigns to it).</summary>
    private IEnumerable<SafetensorsTensorInfo> SelectedEntries(SafetensorsFile file)
    {
        if (_index is null)
        {
            return file.Tensors;
        }

        var fileName = Path.GetFileName(file.FilePath);
        var wanted = _index.WeightMap.Where(kv => kv.Value == fileName).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var absent = wanted.Where(n => !file.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (absent.Count > 0)
        {
            throw new ModelFormatException($"'{file.FilePath}' lacks {absent.Count} tensor(s) its index assigns to it: {string.Join(", ", absent.Take(20))}.");
        }

        return file.Tensors.Where(t => wanted.Contains(t.Name));
    }

    private static string Canonical(string storedName, Dictionary<string, string> storedNames, string file)
    {
        var canonical = WeightNames.ToCanonical(storedName);
        if (!storedNames.TryAdd(canonical, storedName))
        {
            throw new ModelFormatException(
                $"Checkpoint tensor '{storedName}' in '{file}' and '{storedNames[canonical]}' both map to '{canonical}': the folder mixes weight-name layouts or repeats a tensor.");
        }

        return canonical;
    }

    private static bool Included(string canonical, CheckpointLoadOptions options) =>
        !(options.SkipLanguageModelHead && WeightNames.IsLanguageModelHead(canonical))
        && (options.IncludeTensor is null || options.IncludeTensor(canonical));
}
