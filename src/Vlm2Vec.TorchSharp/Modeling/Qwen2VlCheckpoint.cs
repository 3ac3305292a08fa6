using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using global::TorchSharp.PyBridge;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// Reads and writes Qwen2-VL weights in Hugging Face folders through TorchSharp.PyBridge, with strict name and shape
/// checks and the canonical (classic) names.
/// </summary>
/// <remarks>
/// Interim: the shared checkpoint loader/validator/writer (safetensors, sharded, .bin → canonical state dict) replaces
/// this once it is on main; the model only relies on <see cref="CanonicalName"/>-style names.
/// </remarks>
internal static class Qwen2VlCheckpoint
{
    private const string SafetensorsFile = "model.safetensors";
    private const string SafetensorsIndex = "model.safetensors.index.json";
    private const string BinFile = "pytorch_model.bin";
    private const string BinIndex = "pytorch_model.bin.index.json";
    private const string LanguageModelHead = "lm_head.weight";

    /// <summary>
    /// Maps a checkpoint tensor name to the classic layout: <c>model.language_model.*</c> → <c>model.*</c>,
    /// <c>model.visual.*</c> → <c>visual.*</c>; other names are unchanged.
    /// </summary>
    public static string CanonicalName(string name)
    {
        if (name.StartsWith("model.language_model.", StringComparison.Ordinal))
        {
            return "model." + name["model.language_model.".Length..];
        }

        if (name.StartsWith("model.visual.", StringComparison.Ordinal))
        {
            return name["model.".Length..];
        }

        return name;
    }

    /// <summary>The weight files of a checkpoint folder, in load order.</summary>
    public static IReadOnlyList<string> WeightFiles(string folder)
    {
        foreach (var (index, single) in new[] { (SafetensorsIndex, SafetensorsFile), (BinIndex, BinFile) })
        {
            var indexPath = Path.Combine(folder, index);
            if (File.Exists(indexPath))
            {
                return ShardsOf(indexPath, folder);
            }

            var singlePath = Path.Combine(folder, single);
            if (File.Exists(singlePath))
            {
                return [singlePath];
            }
        }

        throw new ModelFormatException(
            $"No weights found in '{folder}': expected {SafetensorsFile}, {SafetensorsIndex}, {BinFile} or {BinIndex}.");
    }

    /// <summary>Reads one weight file (safetensors or a PyTorch pickle) into a name → tensor map (caller disposes the tensors).</summary>
    public static Dictionary<string, Tensor> ReadFile(string path)
    {
        try
        {
            if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                return Safetensors.LoadStateDict(path);
            }

            var table = PyTorchUnpickler.UnpickleStateDict(path);
            var result = new Dictionary<string, Tensor>(table.Count, StringComparer.Ordinal);
            foreach (DictionaryEntry entry in table)
            {
                if (entry.Key is string key && entry.Value is Tensor value)
                {
                    result[key] = value;
                }
            }

            return result;
        }
        catch (Exception ex) when (ex is not ModelFormatException and not OutOfMemoryException)
        {
            throw new ModelFormatException($"Weight file '{path}' could not be read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Copies every tensor of the folder's checkpoint into <paramref name="model"/>, converting dtypes. Every parameter
    /// must be provided exactly once with its exact shape; unknown tensors are refused. Tolerated extras: rotary
    /// <c>inv_freq</c> buffers, and <c>lm_head.weight</c> when the model has no separate head.
    /// </summary>
    public static void LoadWeights(Qwen2VlForConditionalGeneration model, string folder)
    {
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters())
        {
            parameters[name] = parameter;
        }

        var loaded = new HashSet<string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var mismatched = new List<string>();
        foreach (var file in WeightFiles(folder))
        {
            var stateDict = ReadFile(file);
            try
            {
                using var noGrad = no_grad();
                foreach (var (rawName, source) in stateDict)
                {
                    var name = CanonicalName(rawName);
                    if (!parameters.TryGetValue(name, out var target))
                    {
                        if (!IsTolerated(name))
                        {
                            unexpected.Add(rawName);
                        }

                        continue;
                    }

                    if (!source.shape.SequenceEqual(target.shape))
                    {
                        mismatched.Add($"{rawName}: checkpoint [{string.Join(", ", source.shape)}], model [{string.Join(", ", target.shape)}]");
                        continue;
                    }

                    if (!loaded.Add(name))
                    {
                        throw new ModelFormatException($"Checkpoint '{folder}' provides '{name}' more than once (as '{rawName}').");
                    }

                    target.copy_(source);
                }
            }
            finally
            {
                foreach (var tensor in stateDict.Values)
                {
                    tensor.Dispose();
                }
            }
        }

        var missing = parameters.Keys.Where(n => !loaded.Contains(n)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || mismatched.Count > 0)
        {
            throw new ModelFormatException(
                $"Checkpoint '{folder}' does not match the Qwen2-VL model built from its config.json:" +
                Describe("missing", missing) + Describe("unexpected", unexpected) + Describe("wrong shape", mismatched));
        }
    }

    /// <summary>Writes <c>config.json</c> and <c>model.safetensors</c> (canonical names, the model's dtype).</summary>
    public static void Save(Qwen2VlForConditionalGeneration model, string folder)
    {
        Directory.CreateDirectory(folder);
        var config = model.Config with { TorchDtype = DTypeName(model.DType) };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());

        var stateDict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        foreach (var (name, parameter) in model.named_parameters())
        {
            stateDict[name] = parameter.detach().contiguous();
        }

        var target = Path.Combine(folder, SafetensorsFile);
        var temporary = target + ".tmp";
        Safetensors.SaveStateDict(temporary, stateDict);
        File.Move(temporary, target, overwrite: true);
    }

    /// <summary>The Hugging Face <c>torch_dtype</c> string of a dtype.</summary>
    public static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => dtype.ToString().ToLowerInvariant(),
    };

    private static bool IsTolerated(string name) =>
        name == LanguageModelHead || name.EndsWith(".inv_freq", StringComparison.Ordinal);

    private static List<string> ShardsOf(string indexPath, string folder)
    {
        JsonObject? map;
        try
        {
            map = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject;
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Shard index '{indexPath}' is not valid JSON: {ex.Message}", ex);
        }

        if (map is null || map.Count == 0)
        {
            throw new ModelFormatException($"Shard index '{indexPath}' has no 'weight_map'.");
        }

        var files = new List<string>();
        foreach (var (_, value) in map)
        {
            var file = value?.GetValue<string>();
            if (string.IsNullOrEmpty(file) || file.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(file))
            {
                throw new ModelFormatException($"Shard index '{indexPath}' names an invalid shard file '{file}'.");
            }

            var path = Path.Combine(folder, file);
            if (!files.Contains(path))
            {
                if (!File.Exists(path))
                {
                    throw new ModelFormatException($"Shard '{file}' listed in '{indexPath}' does not exist.");
                }

                files.Add(path);
            }
        }

        return files;
    }

    private static string Describe(string what, List<string> names) =>
        names.Count == 0 ? string.Empty : $" {names.Count} {what} ({string.Join("; ", names.Take(8))}{(names.Count > 8 ? "; …" : string.Empty)}).";
}
