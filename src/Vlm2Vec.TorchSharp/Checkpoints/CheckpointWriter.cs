using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>
/// Writes a Hugging Face checkpoint folder that both this library and transformers read: <c>config.json</c> and the
/// weights as one <c>model.safetensors</c> or as size-limited shards with <c>model.safetensors.index.json</c>.
/// </summary>
public static class CheckpointWriter
{
    /// <summary>
    /// Writes <paramref name="stateDict"/> (canonical names) and <paramref name="config"/> into <paramref name="folder"/>.
    /// Every file is written atomically; weight files of another layout left in the folder by an earlier write are removed.
    /// </summary>
    public static void Write(string folder, Qwen2VlConfig config, IReadOnlyDictionary<string, Tensor> stateDict, CheckpointWriteOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(stateDict);
        options ??= new CheckpointWriteOptions();
        if (options.MaxShardBytes is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxShardBytes, "MaxShardBytes must be positive.");
        }

        Directory.CreateDirectory(folder);
        var entries = stateDict
            .Select(kv => (Name: WeightNames.ToLayout(kv.Key, options.Layout), Tensor: kv.Value))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToList();

        var dtype = options.DType ?? DominantFloatingType(stateDict.Values);
        var configToWrite = dtype is { } d ? config with { TorchDtype = TorchDtypeName(d) } : config;
        WriteTextAtomically(Path.Combine(folder, CheckpointFolder.ConfigFileName), configToWrite.ToJson());

        RemoveStaleWeights(folder);
        if (options.MaxShardBytes is not { } limit)
        {
            SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SafetensorsFileName), entries, options.Metadata, options.DType);
            return;
        }

        var shards = new List<List<(string Name, Tensor Tensor)>>();
        var current = new List<(string Name, Tensor Tensor)>();
        long currentBytes = 0;
        long totalBytes = 0;
        foreach (var entry in entries)
        {
            var bytes = StoredBytes(entry.Tensor, options.DType);
            if (current.Count > 0 && currentBytes + bytes > limit)
            {
                shards.Add(current);
                current = [];
                currentBytes = 0;
            }

            current.Add(entry);
            currentBytes += bytes;
            totalBytes += bytes;
        }

        if (current.Count > 0 || shards.Count == 0)
        {
            shards.Add(current);
        }

        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            var fileName = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsFile.Write(Path.Combine(folder, fileName), shards[i], options.Metadata, options.DType);
            foreach (var (name, _) in shards[i])
            {
                weightMap[name] = fileName;
            }
        }

        WriteTextAtomically(Path.Combine(folder, CheckpointFolder.SafetensorsIndexFileName), ShardIndex.ToJson(weightMap, totalBytes));
    }

    /// <summary>Writes a text file through a temporary file and a rename.</summary>
    internal static void WriteTextAtomically(string path, string text)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }

            throw;
        }
    }

    private static long StoredBytes(Tensor tensor, ScalarType? convertTo)
    {
        var type = convertTo is { } c && SafetensorsDType.IsFloatingPoint(tensor.dtype) && SafetensorsDType.IsFloatingPoint(c) ? c : tensor.dtype;
        return tensor.numel() * SafetensorsDType.ElementSize(type);
    }

    private static void RemoveStaleWeights(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            var stale = name == CheckpointFolder.SafetensorsFileName
                || name == CheckpointFolder.SafetensorsIndexFileName
                || (name.StartsWith("model-", StringComparison.Ordinal) && name.EndsWith(".safetensors", StringComparison.Ordinal) && name.Contains("-of-", StringComparison.Ordinal));
            if (stale)
            {
                File.Delete(file);
            }
        }
    }

    private static ScalarType? DominantFloatingType(IEnumerable<Tensor> tensors)
    {
        var bytesByType = new Dictionary<ScalarType, long>();
        foreach (var tensor in tensors)
        {
            if (SafetensorsDType.IsFloatingPoint(tensor.dtype))
            {
                bytesByType[tensor.dtype] = bytesByType.GetValueOrDefault(tensor.dtype) + tensor.numel();
            }
        }

        return bytesByType.Count == 0 ? null : bytesByType.MaxBy(kv => kv.Value).Key;
    }

    private static string TorchDtypeName(ScalarType type) => type switch
    {
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => "float32",
    };
}
