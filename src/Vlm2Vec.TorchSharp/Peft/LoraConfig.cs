using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>
/// A PEFT <c>adapter_config.json</c> of type LORA (with or without DoRA): rank, alpha, dropout, which modules it targets,
/// and the per-module rank/alpha overrides. Target matching follows PEFT: a list matches a module whose full name equals
/// an entry or ends with <c>"." + entry</c>; a string is a regular expression that must match the whole name.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>The target list of VLM2Vec's v1 code (<c>qkv_proj,o_proj,gate_up_proj,down_proj,k_proj,q_proj,out_proj,v_proj</c>).</summary>
    public static IReadOnlyList<string> Vlm2VecV1TargetModules { get; } =
        ["qkv_proj", "o_proj", "gate_up_proj", "down_proj", "k_proj", "q_proj", "out_proj", "v_proj"];

    /// <summary>The target list of VLM2Vec's main branch (V2.0): the v1 list plus <c>gate_proj</c> and <c>up_proj</c>.</summary>
    public static IReadOnlyList<string> Vlm2VecV2TargetModules { get; } =
        ["qkv_proj", "o_proj", "gate_up_proj", "down_proj", "k_proj", "q_proj", "out_proj", "v_proj", "gate_proj", "up_proj"];

    /// <summary>
    /// VLM2Vec V1 (VLM2Vec-Qwen2VL-2B/7B): DoRA, r 8, α 64, dropout 0.1, gaussian init, the v1 target list (on Qwen2-VL it
    /// hits q/k/v/o/down_proj of the language model only).
    /// </summary>
    public static LoraConfig Vlm2VecV1 { get; } = new()
    {
        UseDora = true,
        R = 8,
        LoraAlpha = 64,
        LoraDropout = 0.1,
        InitLoraWeights = "gaussian",
        TargetModules = Vlm2VecV1TargetModules,
        BaseModelNameOrPath = "Qwen/Qwen2-VL-2B-Instruct",
    };

    /// <summary>
    /// VLM2Vec-V2.0: DoRA, r 16, α 64, dropout 0.1, gaussian init, the main target list (q/k/v/o/gate/up/down_proj of the
    /// language model).
    /// </summary>
    public static LoraConfig Vlm2VecV2 { get; } = Vlm2VecV1 with { R = 16, TargetModules = Vlm2VecV2TargetModules };

    /// <summary><c>peft_type</c>; only <c>LORA</c> is supported.</summary>
    public string PeftType { get; init; } = "LORA";

    /// <summary><c>r</c>: the default rank.</summary>
    public int R { get; init; } = 8;

    /// <summary><c>lora_alpha</c>: the default alpha.</summary>
    public double LoraAlpha { get; init; } = 8;

    /// <summary><c>lora_dropout</c>: dropout probability on the adapter input while training.</summary>
    public double LoraDropout { get; init; }

    /// <summary><c>use_dora</c>: weight-decomposed LoRA (a learned magnitude per output row).</summary>
    public bool UseDora { get; init; }

    /// <summary><c>use_rslora</c>: scaling α/√r instead of α/r.</summary>
    public bool UseRslora { get; init; }

    /// <summary><c>target_modules</c> when it is a list (module-name suffixes); null when absent or a regex.</summary>
    public IReadOnlyList<string>? TargetModules { get; init; }

    /// <summary><c>target_modules</c> when it is a string: a regex matched against the whole module name (or <c>all-linear</c>).</summary>
    public string? TargetModulesRegex { get; init; }

    /// <summary><c>exclude_modules</c> when it is a list.</summary>
    public IReadOnlyList<string>? ExcludeModules { get; init; }

    /// <summary><c>exclude_modules</c> when it is a string (a whole-name regex).</summary>
    public string? ExcludeModulesRegex { get; init; }

    /// <summary><c>base_model_name_or_path</c>: the model the adapter was trained on.</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary><c>revision</c> of the base model, when recorded.</summary>
    public string? Revision { get; init; }

    /// <summary><c>bias</c>: <c>none</c>, <c>all</c> or <c>lora_only</c> (which base biases were trained and saved).</summary>
    public string Bias { get; init; } = "none";

    /// <summary><c>lora_bias</c>: whether <c>lora_B</c> has a bias.</summary>
    public bool LoraBias { get; init; }

    /// <summary><c>modules_to_save</c>: modules trained in full and saved whole beside the adapter.</summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    /// <summary><c>rank_pattern</c>: per-module rank overrides (key: a module-name suffix regex).</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    /// <summary><c>alpha_pattern</c>: per-module alpha overrides (key: a module-name suffix regex).</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// <c>init_lora_weights</c> as text: <c>true</c> (A Kaiming-uniform like an nn.Linear), <c>gaussian</c> (A ~ N(0, 1/r²),
    /// PEFT's <c>normal_(std=1/r)</c>) or <c>false</c> (A and B both keep a Linear's random init, so the adapter is not a
    /// no-op; for tests). With <c>true</c> and <c>gaussian</c>, B starts at zero.
    /// </summary>
    public string InitLoraWeights { get; init; } = "true";

    /// <summary><c>fan_in_fan_out</c>: weights stored transposed (GPT-2 Conv1D); not supported for the Linear layers here.</summary>
    public bool FanInFanOut { get; init; }

    /// <summary><c>layers_to_transform</c>, when set.</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }

    /// <summary><c>layers_pattern</c>, when set.</summary>
    public string? LayersPattern { get; init; }

    /// <summary><c>task_type</c>, when set.</summary>
    public string? TaskType { get; init; }

    /// <summary><c>inference_mode</c>.</summary>
    public bool InferenceMode { get; init; } = true;

    /// <summary>Reads an <c>adapter_config.json</c>.</summary>
    /// <exception cref="ModelFormatException">Missing, malformed, or not a LoRA config.</exception>
    public static LoraConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"Adapter config '{path}' does not exist.");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses <c>adapter_config.json</c> text.</summary>
    /// <exception cref="ModelFormatException">Malformed, or not a LoRA config.</exception>
    public static LoraConfig Parse(string json, string? source = null)
    {
        var where = source ?? "adapter_config.json";
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new ModelFormatException($"Adapter config {where} is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Adapter config {where} is not valid JSON: {ex.Message}", ex);
        }

        ModelFormatException Bad(string key, JsonNode? node, string allowed) =>
            new($"Adapter config {where}: '{key}' is {node?.ToJsonString() ?? "null"}; expected {allowed}.");

        string? Str(string key) => root[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw Bad(key, other, "a string"),
        };

        double Num(string key, double fallback) => root[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<double>(out var d) => d,
            var other => throw Bad(key, other, "a number"),
        };

        bool Flag(string key, bool fallback) => root[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var other => throw Bad(key, other, "true or false"),
        };

        (IReadOnlyList<string>? List, string? Regex) ListOrRegex(string key) => root[key] switch
        {
            null => (null, null),
            JsonValue v when v.TryGetValue<string>(out var s) => (null, s),
            JsonArray a => (a.Select(e => e is JsonValue ev && ev.TryGetValue<string>(out var s) ? s : throw Bad(key, a, "a list of strings or a regex string")).ToList(), null),
            var other => throw Bad(key, other, "a list of strings or a regex string"),
        };

        var peftType = Str("peft_type") ?? throw new ModelFormatException($"Adapter config {where} has no peft_type; only LORA adapters are supported.");
        if (!string.Equals(peftType, "LORA", StringComparison.Ordinal))
        {
            throw new ModelFormatException($"Adapter config {where} has peft_type '{peftType}'; only LORA (including DoRA, use_dora) is supported.");
        }

        var rank = Num("r", 8);
        if (rank < 1 || rank != Math.Floor(rank))
        {
            throw Bad("r", root["r"], "a positive integer");
        }

        var (targets, targetRegex) = ListOrRegex("target_modules");
        var (excludes, excludeRegex) = ListOrRegex("exclude_modules");
        var (toSave, _) = root["modules_to_save"] is JsonValue ? throw Bad("modules_to_save", root["modules_to_save"], "a list of module names") : ListOrRegex("modules_to_save");

        var init = root["init_lora_weights"] switch
        {
            null => "true",
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw Bad("init_lora_weights", other, "true, false or a method name such as \"gaussian\""),
        };

        IReadOnlyList<int>? layers = root["layers_to_transform"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<int>(out var i) => [i],
            JsonArray a => a.Select(e => e is JsonValue ev && ev.TryGetValue<int>(out var i) ? i : throw Bad("layers_to_transform", a, "an integer or a list of integers")).ToList(),
            var other => throw Bad("layers_to_transform", other, "an integer or a list of integers"),
        };

        var layersPattern = root["layers_pattern"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray a when a.Count == 0 => null,
            JsonArray a when a.Count == 1 && a[0] is JsonValue v0 && v0.TryGetValue<string>(out var s0) => s0,
            var other => throw Bad("layers_pattern", other, "a string"),
        };

        var config = new LoraConfig
        {
            PeftType = peftType,
            R = (int)rank,
            LoraAlpha = Num("lora_alpha", 8),
            LoraDropout = Num("lora_dropout", 0),
            UseDora = Flag("use_dora", false),
            UseRslora = Flag("use_rslora", false),
            TargetModules = targets,
            TargetModulesRegex = targetRegex,
            ExcludeModules = excludes,
            ExcludeModulesRegex = excludeRegex,
            BaseModelNameOrPath = Str("base_model_name_or_path"),
            Revision = Str("revision"),
            Bias = Str("bias") ?? "none",
            LoraBias = Flag("lora_bias", false),
            ModulesToSave = toSave,
            RankPattern = Pattern<int>(root, "rank_pattern", where, v => v.TryGetValue<int>(out var i) && i > 0 ? i : null),
            AlphaPattern = Pattern<double>(root, "alpha_pattern", where, v => v.TryGetValue<double>(out var d) ? d : null),
            InitLoraWeights = init,
            FanInFanOut = Flag("fan_in_fan_out", false),
            LayersToTransform = layers,
            LayersPattern = layersPattern,
            TaskType = Str("task_type"),
            InferenceMode = Flag("inference_mode", true),
        };

        if (config.LoraDropout is < 0 or >= 1)
        {
            throw Bad("lora_dropout", root["lora_dropout"], "a probability in [0, 1)");
        }

        if (config.Bias is not ("none" or "all" or "lora_only"))
        {
            throw Bad("bias", root["bias"], "\"none\", \"all\" or \"lora_only\"");
        }

        return config;
    }

    /// <summary>
    /// Writes the config as PEFT does, with only keys every PEFT version since DoRA's introduction (0.9) accepts, so that
    /// <c>PeftModel.from_pretrained</c> reads it.
    /// </summary>
    public string ToJson()
    {
        static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);

        var rankPattern = new JsonObject();
        foreach (var (key, value) in RankPattern)
        {
            rankPattern[key] = value;
        }

        var alphaPattern = new JsonObject();
        foreach (var (key, value) in AlphaPattern)
        {
            alphaPattern[key] = value;
        }

        var root = new JsonObject
        {
            ["alpha_pattern"] = alphaPattern,
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = Bias,
            ["fan_in_fan_out"] = FanInFanOut,
            ["inference_mode"] = InferenceMode,
            ["init_lora_weights"] = InitLoraWeights switch
            {
                "true" => (JsonNode)true,
                "false" => false,
                var method => method,
            },
            ["layers_pattern"] = LayersPattern,
            ["layers_to_transform"] = LayersToTransform is null ? null : new JsonArray([.. LayersToTransform.Select(i => (JsonNode)i)]),
            ["lora_alpha"] = LoraAlpha == Math.Floor(LoraAlpha) && Math.Abs(LoraAlpha) < int.MaxValue ? (JsonNode)(int)LoraAlpha : LoraAlpha,
            ["lora_dropout"] = LoraDropout,
            ["modules_to_save"] = ModulesToSave is null ? null : Strings(ModulesToSave),
            ["peft_type"] = PeftType,
            ["r"] = R,
            ["rank_pattern"] = rankPattern,
            ["revision"] = Revision,
            ["target_modules"] = TargetModulesRegex is not null ? TargetModulesRegex : TargetModules is null ? null : Strings(TargetModules),
            ["task_type"] = TaskType,
            ["use_dora"] = UseDora,
            ["use_rslora"] = UseRslora,
        };
        if (LoraBias)
        {
            root["lora_bias"] = true;
        }

        if (ExcludeModules is not null || ExcludeModulesRegex is not null)
        {
            root["exclude_modules"] = ExcludeModulesRegex is not null ? ExcludeModulesRegex : Strings(ExcludeModules!);
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Whether PEFT would put an adapter on the module of this full name (e.g. <c>model.layers.0.self_attn.q_proj</c>):
    /// not excluded, not in <see cref="ModulesToSave"/>, and matched by the target list or regex. <c>all-linear</c>
    /// targets every module except <c>lm_head</c>; the caller checks that the module is a Linear.
    /// </summary>
    public bool IsTargeted(string moduleName)
    {
        ArgumentNullException.ThrowIfNull(moduleName);
        if (ExcludeModulesRegex is not null ? FullMatch(ExcludeModulesRegex, moduleName) : MatchesListEntry(ExcludeModules, moduleName))
        {
            return false;
        }

        if (ModulesToSave is { Count: > 0 }
            && ModulesToSave.Any(m => Regex.IsMatch(moduleName, $"^(?:.*\\.)?{m}(?:$|\\..*)", RegexOptions.CultureInvariant)))
        {
            return false;
        }

        if (TargetModulesRegex is not null)
        {
            return string.Equals(TargetModulesRegex, "all-linear", StringComparison.OrdinalIgnoreCase)
                ? moduleName != "lm_head" && !moduleName.EndsWith(".lm_head", StringComparison.Ordinal)
                : FullMatch(TargetModulesRegex, moduleName);
        }

        return MatchesListEntry(TargetModules, moduleName);
    }

    /// <summary>The rank of the adapter on a module (<see cref="RankPattern"/> first, then <see cref="R"/>).</summary>
    public int RankFor(string moduleName) => PatternValue(RankPattern, moduleName) ?? R;

    /// <summary>The alpha of the adapter on a module (<see cref="AlphaPattern"/> first, then <see cref="LoraAlpha"/>).</summary>
    public double AlphaFor(string moduleName) => PatternValue(AlphaPattern, moduleName) ?? LoraAlpha;

    /// <summary>The LoRA scaling of a module: α/r, or α/√r with <see cref="UseRslora"/>.</summary>
    public double ScalingFor(string moduleName)
    {
        var rank = RankFor(moduleName);
        var alpha = AlphaFor(moduleName);
        return UseRslora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    private static bool MatchesListEntry(IReadOnlyList<string>? entries, string moduleName)
    {
        if (entries is null)
        {
            return false;
        }

        foreach (var entry in entries)
        {
            if (moduleName == entry || (moduleName.Length > entry.Length && moduleName.EndsWith(entry, StringComparison.Ordinal) && moduleName[^(entry.Length + 1)] == '.'))
            {
                return true;
            }
        }

        return false;
    }

    private static bool FullMatch(string pattern, string input) =>
        Regex.IsMatch(input, $"^(?:{pattern})\\z", RegexOptions.CultureInvariant);

    /// <summary>PEFT's <c>get_pattern_key</c>: the first key <c>k</c> for which <c>(.*\.)?(k)$</c> matches from the start.</summary>
    private static T? PatternValue<T>(IReadOnlyDictionary<string, T> pattern, string moduleName)
        where T : struct
    {
        foreach (var (key, value) in pattern)
        {
            if (Regex.IsMatch(moduleName, $"^(?:.*\\.)?(?:{key})\\z", RegexOptions.CultureInvariant))
            {
                return value;
            }
        }

        return null;
    }

    private static IReadOnlyDictionary<string, T> Pattern<T>(JsonObject root, string key, string where, Func<JsonValue, T?> read)
        where T : struct
    {
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        switch (root[key])
        {
            case null:
                return result;
            case JsonObject map:
                foreach (var (name, node) in map)
                {
                    result[name] = node is JsonValue v && read(v) is { } value
                        ? value
                        : throw new ModelFormatException(string.Create(CultureInfo.InvariantCulture, $"Adapter config {where}: {key} entry '{name}' is {node?.ToJsonString() ?? "null"}; expected a positive number."));
                }

                return result;
            case var other:
                throw new ModelFormatException($"Adapter config {where}: '{key}' is {other.ToJsonString()}; expected an object.");
        }
    }
}
