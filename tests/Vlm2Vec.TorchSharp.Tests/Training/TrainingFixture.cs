using System.Globalization;
using System.Text.Json.Nodes;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>
/// A tiny Qwen2-VL with the real Qwen2-VL tokenizer (vocabulary 151,936, hidden 32) saved as a Hugging Face folder, and
/// small training sets: text pairs, and Caltech-101 images (shared data) shrunk to at most 56×56 pixels (16 patches,
/// 4 image tokens) by the pixel budget. Everything stays small so a training step takes milliseconds.
/// </summary>
internal static class TrainingFixture
{
    /// <summary>Pixel budget of 56×56: every image keeps its aspect ratio within 3 136 pixels (at most 4 tokens).</summary>
    public static PreprocessorOptions Preprocessing { get; } = new()
    {
        ImageProcessor = new Vlm2Vec.Preprocessing.Qwen2VlImageProcessorOptions { MinPixels = 56 * 56, MaxPixels = 56 * 56 },
    };

    public static string ConfigJson(int hidden = 32, int layers = 2)
    {
        var source = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.Qwen2VlTokenizerFolder, "config.json")))!.AsObject();
        source["hidden_size"] = hidden;
        source["intermediate_size"] = hidden * 2;
        source["num_hidden_layers"] = layers;
        source["num_attention_heads"] = 2;
        source["num_key_value_heads"] = 1;
        source["max_window_layers"] = layers;
        source["torch_dtype"] = "float32";
        source["rope_scaling"] = JsonNode.Parse("""{"type": "mrope", "mrope_section": [2, 3, 3]}""");
        source["vision_config"] = JsonNode.Parse(string.Create(CultureInfo.InvariantCulture,
            $$"""{"depth": 1, "embed_dim": 32, "mlp_ratio": 2, "num_heads": 2, "in_chans": 3, "hidden_size": {{hidden}}, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14, "temporal_patch_size": 2}"""));
        return source.ToJsonString();
    }

    /// <summary>Writes <c>config.json</c> for a random model into <paramref name="folder"/> and returns its path.</summary>
    public static string WriteConfig(string folder, int hidden = 32, int layers = 2)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, ConfigJson(hidden, layers));
        return path;
    }

    /// <summary>A pretrained-looking base folder: random weights (seed), config, tokenizer and processor files.</summary>
    public static string CreateBaseModel(string folder, long seed = 5)
    {
        Directory.CreateDirectory(folder);
        TorchSharpRuntime.EnsureLoaded();
        var config = Qwen2VlConfig.Parse(ConfigJson(), "tiny");
        using var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = seed });
        model.SavePretrained(folder);
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json" })
        {
            File.Copy(Path.Combine(SharedData.Qwen2VlTokenizerFolder, name), Path.Combine(folder, name), overwrite: true);
        }

        return folder;
    }

    private static readonly string[] Words =
    [
        "cat", "dog", "bird", "fish", "tree", "car", "boat", "plane", "house", "river", "mountain", "flower", "apple", "chair", "lamp", "book",
    ];

    /// <summary>Text pairs: "a photo of a {w}" → "{w}", with a different instruction per half.</summary>
    public static List<ContrastiveExample> TextPairs(int count, int negatives = 0)
    {
        var list = new List<ContrastiveExample>();
        for (var i = 0; i < count; i++)
        {
            var word = Words[i % Words.Length];
            list.Add(new ContrastiveExample
            {
                Query = MultimodalInput.FromText($"a picture of a {word} number {i}", "Find the matching word"),
                Positive = MultimodalInput.FromText(word, role: EmbeddingRole.Target),
                Negatives = [.. Enumerable.Range(1, negatives).Select(k => MultimodalInput.FromText(Words[(i + k) % Words.Length], role: EmbeddingRole.Target))],
                Dataset = i % 2 == 0 ? "even" : "odd",
                Source = string.Create(CultureInfo.InvariantCulture, $"pairs:{i + 1}"),
            });
        }

        return list;
    }

    /// <summary>Caltech-101 image → label pairs from shared data (the first <paramref name="classes"/> classes, <paramref name="perClass"/> images each).</summary>
    public static List<ContrastiveExample> ImagePairs(int classes, int perClass)
    {
        var root = SharedData.Path("classification", "caltech101-test10", "images");
        var list = new List<ContrastiveExample>();
        foreach (var folder in Directory.GetDirectories(root).Order(StringComparer.Ordinal).Take(classes))
        {
            var label = Path.GetFileName(folder).Replace('_', ' ');
            foreach (var file in Directory.GetFiles(folder, "*.jpg").Order(StringComparer.Ordinal).Take(perClass))
            {
                list.Add(new ContrastiveExample
                {
                    Query = MultimodalInput.FromImage(ImageInput.FromFile(file), "Represent the given image for classification"),
                    Positive = MultimodalInput.FromText(label, role: EmbeddingRole.Target),
                    Source = Path.GetFileName(file),
                });
            }
        }

        return list;
    }

    /// <summary>Options for a short run in <paramref name="output"/>.</summary>
    public static ContrastiveTrainingOptions Options(string output, string? baseModel = null, string? initConfig = null) => new()
    {
        OutputFolder = output,
        BaseModelFolder = baseModel,
        InitConfigPath = initConfig,
        TokenizerFolder = initConfig is null ? null : SharedData.Qwen2VlTokenizerFolder,
        Mode = initConfig is null ? FineTuningMode.Lora : FineTuningMode.Full,
        Preprocessing = Preprocessing,
        BatchSize = 8,
        QueryChunkSize = 4,
        TargetChunkSize = 4,
        MaxSteps = 4,
        WarmupSteps = 1,
        LearningRate = 1e-3,
        SaveEverySteps = 2,
        Seed = 3,
        Threads = 1,
    };

    /// <summary>Copies of every parameter, by name.</summary>
    public static Dictionary<string, global::TorchSharp.torch.Tensor> Snapshot(global::TorchSharp.torch.nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
}
