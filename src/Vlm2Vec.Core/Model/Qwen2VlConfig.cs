using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vlm2Vec;

/// <summary>
/// A Qwen2-VL <c>config.json</c>: text-model settings, the vision sub-config and the special-token ids. Reads both the
/// classic flat layout and the newer one with a <c>text_config</c> object; values a file omits take the Hugging Face
/// class defaults. Only <c>model_type</c> <c>qwen2_vl</c> is supported.
/// </summary>
public sealed record Qwen2VlConfig
{
    /// <summary>The architectures this library supports (<c>model_type</c> values).</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["qwen2_vl"];

    /// <summary><c>model_type</c>.</summary>
    public string ModelType { get; init; } = "qwen2_vl";

    /// <summary><c>architectures</c>.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = ["Qwen2VLForConditionalGeneration"];

    /// <summary>Embedding rows (<c>vocab_size</c>).</summary>
    public int VocabSize { get; init; } = 152064;

    /// <summary>Decoder width (<c>hidden_size</c>) = the embedding dimension.</summary>
    public int HiddenSize { get; init; } = 8192;

    /// <summary>SwiGLU inner width (<c>intermediate_size</c>).</summary>
    public int IntermediateSize { get; init; } = 29568;

    /// <summary>Decoder layers (<c>num_hidden_layers</c>).</summary>
    public int NumHiddenLayers { get; init; } = 80;

    /// <summary>Query heads (<c>num_attention_heads</c>).</summary>
    public int NumAttentionHeads { get; init; } = 64;

    /// <summary>Key/value heads (<c>num_key_value_heads</c>).</summary>
    public int NumKeyValueHeads { get; init; } = 8;

    /// <summary>Decoder MLP activation (<c>hidden_act</c>).</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>RMSNorm epsilon (<c>rms_norm_eps</c>).</summary>
    public double RmsNormEps { get; init; } = 1e-5;

    /// <summary>RoPE base (<c>rope_theta</c>).</summary>
    public double RopeTheta { get; init; } = 1_000_000.0;

    /// <summary>M-RoPE split of the rotary half-dimension into t/h/w sections (<c>rope_scaling.mrope_section</c>).</summary>
    public IReadOnlyList<int> MropeSection { get; init; } = [16, 24, 24];

    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 32768;

    /// <summary>Whether <c>lm_head</c> shares the embedding matrix (<c>tie_word_embeddings</c>).</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary><c>attention_dropout</c>.</summary>
    public double AttentionDropout { get; init; }

    /// <summary>Head dimension (<c>head_dim</c> when present, else hidden / heads).</summary>
    public int HeadDim { get; init; }

    /// <summary><c>bos_token_id</c>, when present.</summary>
    public int? BosTokenId { get; init; }

    /// <summary><c>eos_token_id</c>, when present.</summary>
    public int? EosTokenId { get; init; }

    /// <summary><c>pad_token_id</c>, when present (Qwen2-VL files usually leave it to the tokenizer config).</summary>
    public int? PadTokenId { get; init; }

    /// <summary><c>vision_start_token_id</c>.</summary>
    public int VisionStartTokenId { get; init; } = 151652;

    /// <summary><c>vision_end_token_id</c>.</summary>
    public int VisionEndTokenId { get; init; } = 151653;

    /// <summary><c>vision_token_id</c>.</summary>
    public int VisionTokenId { get; init; } = 151654;

    /// <summary><c>image_token_id</c>.</summary>
    public int ImageTokenId { get; init; } = 151655;

    /// <summary><c>video_token_id</c>.</summary>
    public int VideoTokenId { get; init; } = 151656;

    /// <summary><c>torch_dtype</c> (or <c>dtype</c>), when present.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>The vision tower settings.</summary>
    public Qwen2VlVisionConfig Vision { get; init; } = new();

    /// <summary>Reads a <c>config.json</c> file.</summary>
    /// <exception cref="ModelFormatException">Missing, malformed, or an unsupported architecture.</exception>
    public static Qwen2VlConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"Model config '{path}' does not exist.");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses <c>config.json</c> text.</summary>
    /// <exception cref="ModelFormatException">Malformed, or an unsupported architecture.</exception>
    public static Qwen2VlConfig Parse(string json, string? source = null)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject
                ?? throw new ModelFormatException($"Model config {source ?? "(text)"} is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Model config {source ?? "(text)"} is not valid JSON: {ex.Message}", ex);
        }

        var where = source ?? "config.json";
        var modelType = Str(root, "model_type");
        if (modelType is null || !SupportedModelTypes.Contains(modelType))
        {
            throw new ModelFormatException(
                $"Model config {where} has model_type '{modelType ?? "(missing)"}'; supported: {string.Join(", ", SupportedModelTypes)} (Qwen2-VL based VLM2Vec models).");
        }

        // Newer transformers nest the text settings in "text_config"; older files are flat. Text keys are read from
        // text_config first, then from the root.
        var text = root["text_config"] as JsonObject;
        JsonNode? Get(string key) => text?[key] ?? root[key];

        var defaults = new Qwen2VlConfig();
        var hidden = Int(Get("hidden_size"), defaults.HiddenSize, where, "hidden_size");
        var heads = Int(Get("num_attention_heads"), defaults.NumAttentionHeads, where, "num_attention_heads");
        var ropeScaling = Get("rope_scaling") as JsonObject ?? Get("rope_parameters") as JsonObject;
        var mrope = ropeScaling?["mrope_section"] is JsonArray sections
            ? sections.Select(s => Int(s, 0, where, "mrope_section")).ToArray()
            : [.. defaults.MropeSection];

        var vision = root["vision_config"] as JsonObject;
        var vd = new Qwen2VlVisionConfig();
        var visionConfig = vision is null
            ? vd
            : new Qwen2VlVisionConfig
            {
                Depth = Int(vision["depth"], vd.Depth, where, "vision_config.depth"),
                EmbedDim = Int(vision["embed_dim"], vd.EmbedDim, where, "vision_config.embed_dim"),
                HiddenSize = Int(vision["hidden_size"], vd.HiddenSize, where, "vision_config.hidden_size"),
                NumHeads = Int(vision["num_heads"], vd.NumHeads, where, "vision_config.num_heads"),
                MlpRatio = Dbl(vision["mlp_ratio"], vd.MlpRatio, where, "vision_config.mlp_ratio"),
                HiddenAct = Str(vision, "hidden_act") ?? vd.HiddenAct,
                InChannels = Int(vision["in_channels"] ?? vision["in_chans"], vd.InChannels, where, "vision_config.in_channels"),
                PatchSize = Int(vision["patch_size"] ?? vision["spatial_patch_size"], vd.PatchSize, where, "vision_config.patch_size"),
                SpatialMergeSize = Int(vision["spatial_merge_size"], vd.SpatialMergeSize, where, "vision_config.spatial_merge_size"),
                TemporalPatchSize = Int(vision["temporal_patch_size"], vd.TemporalPatchSize, where, "vision_config.temporal_patch_size"),
            };

        var config = new Qwen2VlConfig
        {
            ModelType = modelType,
            Architectures = root["architectures"] is JsonArray arch ? arch.Select(a => a?.GetValue<string>() ?? string.Empty).ToArray() : defaults.Architectures,
            VocabSize = Int(Get("vocab_size"), defaults.VocabSize, where, "vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = Int(Get("intermediate_size"), defaults.IntermediateSize, where, "intermediate_size"),
            NumHiddenLayers = Int(Get("num_hidden_layers"), defaults.NumHiddenLayers, where, "num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = Int(Get("num_key_value_heads"), heads, where, "num_key_value_heads"),
            HiddenAct = (Get("hidden_act") as JsonValue)?.GetValue<string>() ?? defaults.HiddenAct,
            RmsNormEps = Dbl(Get("rms_norm_eps"), defaults.RmsNormEps, where, "rms_norm_eps"),
            RopeTheta = Dbl(Get("rope_theta") ?? ropeScaling?["rope_theta"], defaults.RopeTheta, where, "rope_theta"),
            MropeSection = mrope,
            MaxPositionEmbeddings = Int(Get("max_position_embeddings"), defaults.MaxPositionEmbeddings, where, "max_position_embeddings"),
            TieWordEmbeddings = Bool(root["tie_word_embeddings"] ?? text?["tie_word_embeddings"], false),
            AttentionDropout = Dbl(Get("attention_dropout"), 0, where, "attention_dropout"),
            HeadDim = Int(Get("head_dim"), heads == 0 ? 0 : hidden / heads, where, "head_dim"),
            BosTokenId = NullableInt(Get("bos_token_id")),
            EosTokenId = NullableInt(Get("eos_token_id")),
            PadTokenId = NullableInt(Get("pad_token_id")),
            VisionStartTokenId = Int(root["vision_start_token_id"] ?? text?["vision_start_token_id"], defaults.VisionStartTokenId, where, "vision_start_token_id"),
            VisionEndTokenId = Int(root["vision_end_token_id"] ?? text?["vision_end_token_id"], defaults.VisionEndTokenId, where, "vision_end_token_id"),
            VisionTokenId = Int(root["vision_token_id"] ?? text?["vision_token_id"], defaults.VisionTokenId, where, "vision_token_id"),
            ImageTokenId = Int(root["image_token_id"] ?? text?["image_token_id"], defaults.ImageTokenId, where, "image_token_id"),
            VideoTokenId = Int(root["video_token_id"] ?? text?["video_token_id"], defaults.VideoTokenId, where, "video_token_id"),
            TorchDtype = Str(root, "torch_dtype") ?? Str(root, "dtype") ?? (text is null ? null : Str(text, "torch_dtype") ?? Str(text, "dtype")),
            Vision = visionConfig,
        };

        config.Validate(where);
        return config;
    }

    /// <summary>
    /// Writes the config in the classic flat Hugging Face layout (what Qwen/Qwen2-VL-2B-Instruct ships), so that the
    /// reference implementation and this library read it the same way.
    /// </summary>
    public string ToJson()
    {
        var rope = new JsonObject { ["type"] = "mrope", ["mrope_section"] = new JsonArray([.. MropeSection.Select(s => (JsonNode)s)]) };
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray([.. Architectures.Select(a => (JsonNode)a)]),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["hidden_act"] = HiddenAct,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = rope,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_dropout"] = AttentionDropout,
            ["use_sliding_window"] = false,
            ["sliding_window"] = MaxPositionEmbeddings,
            ["max_window_layers"] = NumHiddenLayers,
            ["vision_start_token_id"] = VisionStartTokenId,
            ["vision_end_token_id"] = VisionEndTokenId,
            ["vision_token_id"] = VisionTokenId,
            ["image_token_id"] = ImageTokenId,
            ["video_token_id"] = VideoTokenId,
            ["vision_config"] = new JsonObject
            {
                ["depth"] = Vision.Depth,
                ["embed_dim"] = Vision.EmbedDim,
                ["hidden_size"] = Vision.HiddenSize,
                ["num_heads"] = Vision.NumHeads,
                ["mlp_ratio"] = Vision.MlpRatio,
                ["hidden_act"] = Vision.HiddenAct,
                ["in_channels"] = Vision.InChannels,
                ["in_chans"] = Vision.InChannels,
                ["patch_size"] = Vision.PatchSize,
                ["spatial_patch_size"] = Vision.PatchSize,
                ["spatial_merge_size"] = Vision.SpatialMergeSize,
                ["temporal_patch_size"] = Vision.TemporalPatchSize,
            },
        };
        if (HeadDim != 0 && HeadDim != HiddenSize / NumAttentionHeads)
        {
            root["head_dim"] = HeadDim;
        }

        if (BosTokenId is { } bos)
        {
            root["bos_token_id"] = bos;
        }

        if (EosTokenId is { } eos)
        {
            root["eos_token_id"] = eos;
        }

        if (PadTokenId is { } pad)
        {
            root["pad_token_id"] = pad;
        }

        if (TorchDtype is not null)
        {
            root["torch_dtype"] = TorchDtype;
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private void Validate(string where)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new ModelFormatException($"Model config {where}: {what}.");
            }
        }

        Require(HiddenSize > 0 && NumAttentionHeads > 0 && NumKeyValueHeads > 0, "hidden_size, num_attention_heads and num_key_value_heads must be positive");
        Require(NumAttentionHeads % NumKeyValueHeads == 0, $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})");
        Require(HeadDim > 0 && HeadDim % 2 == 0, $"head_dim ({HeadDim}) must be positive and even");
        Require(MropeSection.Count == 3 && MropeSection.Sum() * 2 == HeadDim,
            $"rope_scaling.mrope_section [{string.Join(", ", MropeSection)}] must have 3 entries summing to head_dim/2 ({HeadDim / 2})");
        Require(Vision.EmbedDim % Vision.NumHeads == 0, $"vision_config.embed_dim ({Vision.EmbedDim}) must be a multiple of num_heads ({Vision.NumHeads})");
        Require(Vision.HeadDim % 4 == 0, $"vision head dim ({Vision.HeadDim}) must be a multiple of 4 (2-D rotary)");
        Require(Vision.HiddenSize == HiddenSize, $"vision_config.hidden_size ({Vision.HiddenSize}) must equal hidden_size ({HiddenSize})");
        Require(NumHiddenLayers >= 0 && Vision.Depth >= 0 && VocabSize > 0, "layer counts must be non-negative and vocab_size positive");
    }

    private static string? Str(JsonObject obj, string key) => obj[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static int Int(JsonNode? node, int fallback, string where, string key)
    {
        if (node is null)
        {
            return fallback;
        }

        if (node is JsonValue v)
        {
            if (v.TryGetValue<int>(out var i))
            {
                return i;
            }

            if (v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue)
            {
                return (int)d;
            }
        }

        throw new ModelFormatException($"Model config {where}: '{key}' must be an integer, not {node.ToJsonString()}.");
    }

    private static int? NullableInt(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonArray a when a.Count > 0 && a[0] is JsonValue first && first.TryGetValue<int>(out var j) => j,
        _ => null,
    };

    private static double Dbl(JsonNode? node, double fallback, string where, string key)
    {
        if (node is null)
        {
            return fallback;
        }

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

        throw new ModelFormatException($"Model config {where}: '{key}' must be a number, not {node.ToJsonString()}.");
    }

    private static bool Bool(JsonNode? node, bool fallback) =>
        node is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;
}
