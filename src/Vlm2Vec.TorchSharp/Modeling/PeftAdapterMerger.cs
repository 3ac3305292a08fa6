using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// Merges a PEFT LoRA or DoRA adapter into the base weights (spec §1.8): <c>ΔW = s·B·A</c> with <c>s = α/r</c>
/// (<c>α/√r</c> with rsLoRA); LoRA: <c>W' = W + ΔW</c>; DoRA: <c>W' = (m / ‖W + ΔW‖_row) ⊙ (W + ΔW)</c>. The arithmetic
/// runs in float32 and the result is cast to the model dtype; biases are unchanged.
/// </summary>
/// <remarks>Interim: the PEFT modules and loader (LoRA/DoRA layers, injector, unmerged use) replace this once on main.</remarks>
internal static class PeftAdapterMerger
{
    private const string KeyPrefix = "base_model.model.";

    public static void Merge(Qwen2VlForConditionalGeneration model, string adapterFolder)
    {
        var configPath = Path.Combine(adapterFolder, "adapter_config.json");
        if (!File.Exists(configPath))
        {
            throw new ModelFormatException($"Adapter folder '{adapterFolder}' has no adapter_config.json.");
        }

        var settings = AdapterSettings.Parse(File.ReadAllText(configPath), configPath);
        var weightsPath = new[] { "adapter_model.safetensors", "adapter_model.bin" }
            .Select(f => Path.Combine(adapterFolder, f))
            .FirstOrDefault(File.Exists)
            ?? throw new ModelFormatException($"Adapter folder '{adapterFolder}' has neither adapter_model.safetensors nor adapter_model.bin.");

        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters())
        {
            parameters[name] = parameter;
        }

        var tensors = Qwen2VlCheckpoint.ReadFile(weightsPath);
        try
        {
            var modules = GroupByModule(tensors, weightsPath);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var (modulePath, parts) in modules)
            {
                if (parts.A is null || parts.B is null)
                {
                    throw new ModelFormatException($"Adapter '{weightsPath}': module '{modulePath}' lacks lora_A or lora_B.");
                }

                if (!parameters.TryGetValue(modulePath + ".weight", out var weight) || weight.dim() != 2)
                {
                    throw new ModelFormatException($"Adapter '{weightsPath}' targets '{modulePath}', which is not a linear layer of this model.");
                }

                var (rank, alpha) = settings.RankAndAlpha(modulePath);
                if (parts.A.shape[0] != parts.B.shape[1] || parts.A.shape[1] != weight.shape[1] || parts.B.shape[0] != weight.shape[0])
                {
                    throw new ModelFormatException(
                        $"Adapter '{weightsPath}', module '{modulePath}': lora_A [{string.Join(", ", parts.A.shape)}] and lora_B [{string.Join(", ", parts.B.shape)}] do not fit the weight [{string.Join(", ", weight.shape)}].");
                }

                if (parts.A.shape[0] != rank)
                {
                    throw new ModelFormatException($"Adapter '{weightsPath}', module '{modulePath}': lora_A has rank {parts.A.shape[0]}, adapter_config.json says r = {rank}.");
                }

                var scale = settings.UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
                var baseWeight = weight.to(ScalarType.Float32);
                var merged = baseWeight + (matmul(parts.B.to(ScalarType.Float32), parts.A.to(ScalarType.Float32)) * scale);
                if (settings.UseDora)
                {
                    var magnitude = parts.Magnitude
                        ?? throw new ModelFormatException($"Adapter '{weightsPath}' is DoRA but module '{modulePath}' has no lora_magnitude_vector.");
                    if (magnitude.numel() != weight.shape[0])
                    {
                        throw new ModelFormatException($"Adapter '{weightsPath}', module '{modulePath}': magnitude has {magnitude.numel()} values for {weight.shape[0]} output rows.");
                    }

                    var rowNorm = linalg.vector_norm(merged, 2, [1L], keepdim: true);
                    merged = merged * (magnitude.to(ScalarType.Float32).reshape(-1, 1) / rowNorm);
                }
                else if (parts.Magnitude is not null)
                {
                    throw new ModelFormatException($"Adapter '{weightsPath}' has a DoRA magnitude for '{modulePath}' but adapter_config.json does not set use_dora.");
                }

                weight.copy_(merged);
            }
        }
        finally
        {
            foreach (var tensor in tensors.Values)
            {
                tensor.Dispose();
            }
        }
    }

    private static SortedDictionary<string, AdapterParts> GroupByModule(Dictionary<string, Tensor> tensors, string source)
    {
        var modules = new SortedDictionary<string, AdapterParts>(StringComparer.Ordinal);
        foreach (var (rawName, tensor) in tensors)
        {
            var name = rawName.StartsWith(KeyPrefix, StringComparison.Ordinal) ? rawName[KeyPrefix.Length..] : rawName;
            name = Qwen2VlCheckpoint.CanonicalName(name);
            string modulePath;
            if (TryStrip(name, ".lora_A.weight", out modulePath) || TryStrip(name, ".lora_A.default.weight", out modulePath))
            {
                Get(modules, modulePath).A = tensor;
            }
            else if (TryStrip(name, ".lora_B.weight", out modulePath) || TryStrip(name, ".lora_B.default.weight", out modulePath))
            {
                Get(modules, modulePath).B = tensor;
            }
            else if (TryStrip(name, ".lora_magnitude_vector", out modulePath) || TryStrip(name, ".lora_magnitude_vector.weight", out modulePath)
                || TryStrip(name, ".lora_magnitude_vector.default.weight", out modulePath))
            {
                Get(modules, modulePath).Magnitude = tensor;
            }
            else
            {
                throw new ModelFormatException(
                    $"Adapter '{source}' holds '{rawName}', which is not a LoRA/DoRA linear tensor (lora_A, lora_B, lora_magnitude_vector); only those can be merged.");
            }
        }

        return modules;
    }

    private static AdapterParts Get(SortedDictionary<string, AdapterParts> modules, string path)
    {
        if (!modules.TryGetValue(path, out var parts))
        {
            parts = new AdapterParts();
            modules[path] = parts;
        }

        return parts;
    }

    private static bool TryStrip(string name, string suffix, out string prefix)
    {
        if (name.EndsWith(suffix, StringComparison.Ordinal))
        {
            prefix = name[..^suffix.Length];
            return true;
        }

        prefix = string.Empty;
        return false;
    }

    private sealed class AdapterParts
    {
        public Tensor? A { get; set; }

        public Tensor? B { get; set; }

        public Tensor? Magnitude { get; set; }
    }

    private sealed class AdapterSettings
    {
        private readonly Dictionary<string, int> _rankPattern = new(StringComparer.Ordinal);
        private readonly Dictionary<string, double> _alphaPattern = new(StringComparer.Ordinal);

        public int Rank { get; private init; }

        public double Alpha { get; private init; }

        public bool UseDora { get; private init; }

        public bool UseRsLora { get; private init; }

        public static AdapterSettings Parse(string json, string source)
        {
            JsonObject root;
            try
            {
                root = JsonNode.Parse(json) as JsonObject ?? throw new ModelFormatException($"'{source}' is not a JSON object.");
            }
            catch (JsonException ex)
            {
                throw new ModelFormatException($"'{source}' is not valid JSON: {ex.Message}", ex);
            }

            var peftType = root["peft_type"]?.GetValue<string>();
            if (peftType is not null && !string.Equals(peftType, "LORA", StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelFormatException($"'{source}': peft_type '{peftType}' is not supported; only LORA (with or without use_dora) can be merged.");
            }

            if (root["fan_in_fan_out"] is JsonValue fan && fan.TryGetValue<bool>(out var fanInFanOut) && fanInFanOut)
            {
                throw new ModelFormatException($"'{source}': fan_in_fan_out = true is not supported (Qwen2-VL uses nn.Linear).");
            }

            var settings = new AdapterSettings
            {
                Rank = Number(root["r"], source, "r") is var r && r > 0 ? (int)r : throw new ModelFormatException($"'{source}': r must be positive."),
                Alpha = Number(root["lora_alpha"], source, "lora_alpha"),
                UseDora = Flag(root["use_dora"]),
                UseRsLora = Flag(root["use_rslora"]),
            };
            if (root["rank_pattern"] is JsonObject ranks)
            {
                foreach (var (key, value) in ranks)
                {
                    settings._rankPattern[key] = (int)Number(value, source, "rank_pattern." + key);
                }
            }

            if (root["alpha_pattern"] is JsonObject alphas)
            {
                foreach (var (key, value) in alphas)
                {
                    settings._alphaPattern[key] = Number(value, source, "alpha_pattern." + key);
                }
            }

            return settings;
        }

        /// <summary>PEFT's pattern lookup: the first key <c>k</c> with <c>^(.*\.)?k$</c> matching the module path wins.</summary>
        public (int Rank, double Alpha) RankAndAlpha(string modulePath)
        {
            var rank = Rank;
            var alpha = Alpha;
            foreach (var (key, value) in _rankPattern)
            {
                if (Matches(key, modulePath))
                {
                    rank = value;
                    break;
                }
            }

            foreach (var (key, value) in _alphaPattern)
            {
                if (Matches(key, modulePath))
                {
                    alpha = value;
                    break;
                }
            }

            return (rank, alpha);
        }

        private static bool Matches(string key, string modulePath) =>
            Regex.IsMatch(modulePath, $"^(.*\\.)?({key})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

        private static double Number(JsonNode? node, string source, string key)
        {
            if (node is JsonValue v)
            {
                if (v.TryGetValue<double>(out var d))
                {
                    return d;
                }

                if (v.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d))
                {
                    return d;
                }
            }

            throw new ModelFormatException($"'{source}': '{key}' must be a number.");
        }

        private static bool Flag(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    }
}
