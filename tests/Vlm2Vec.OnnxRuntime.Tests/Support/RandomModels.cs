using System.Globalization;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Export;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Peft;
using static TorchSharp.torch;

namespace Vlm2Vec.OnnxRuntime.Tests.Support;

/// <summary>
/// A random tiny Qwen2-VL in TorchSharp (every parameter perturbed, norm weights and biases included, so none can be
/// ignored), saved as a Hugging Face folder, with a random DoRA adapter trained-looking enough to matter, and the bundles
/// exported from them. Shared by the parity tests; deleted at the end.
/// </summary>
public sealed class RandomModels : IDisposable
{
    public const int VisionStart = 281;
    public const int VisionEnd = 282;
    public const int ImageToken = 284;
    public const int PadToken = 280;

    private readonly Dictionary<string, string> _bundles = new(StringComparer.Ordinal);

    public RandomModels()
    {
        TorchSharpRuntime.EnsureLoaded();
        Root = Path.Combine(Path.GetTempPath(), $"vlm2vec-random-models-{Guid.NewGuid():N}");
        Config = Qwen2VlConfig.Parse(ConfigJson(), "random tiny config");
        BaseFolder = Path.Combine(Root, "base");
        AdapterFolder = Path.Combine(Root, "dora");
        TokenizerFolder = TestModelFiles.WriteTokenizerFolder(Path.Combine(Root, "tokenizer"), Config, PadToken);

        Model = Qwen2VlForConditionalGeneration.CreateRandom(Config, new Qwen2VlRandomInitOptions { Seed = 17, InitializerRange = 0.1 });
        using (no_grad())
        {
            var generator = new Generator(18);
            foreach (var (name, parameter) in Model.named_parameters())
            {
                var noise = randn(parameter.shape, generator: generator).mul_(name.EndsWith("bias", StringComparison.Ordinal) ? 0.1 : name.Contains("norm", StringComparison.Ordinal) || name.Contains("ln_q", StringComparison.Ordinal) ? 0.2 : 0.02);
                parameter.add_(noise);
            }
        }

        Model.SavePretrained(BaseFolder);

        // The same weights plus a DoRA adapter (VLM2Vec V1 targets) injected unmerged: the TorchSharp reference for the
        // merged export.
        AdaptedModel = Qwen2VlForConditionalGeneration.FromPretrained(BaseFolder);
        var loraConfig = new LoraConfig { R = 4, LoraAlpha = 16, UseDora = true, TargetModules = LoraConfig.Vlm2VecV1TargetModules, InitLoraWeights = "gaussian" };
        LoraInjector.Inject(AdaptedModel, loraConfig);
        using (no_grad())
        {
            var generator = new Generator(19);
            foreach (var (name, parameter) in AdaptedModel.named_parameters())
            {
                if (name.Contains("lora_B", StringComparison.Ordinal))
                {
                    parameter.copy_(randn(parameter.shape, generator: generator).mul_(0.05));
                }
                else if (name.Contains("lora_magnitude_vector", StringComparison.Ordinal))
                {
                    parameter.mul_(randn(parameter.shape, generator: generator).mul_(0.1).add_(1));
                }
            }
        }

        AdaptedModel.eval();
        using var adapter = LoraInjector.ExtractAdapter(AdaptedModel, loraConfig);
        adapter.Save(AdapterFolder);
    }

    public string Root { get; }

    public Qwen2VlConfig Config { get; }

    public string BaseFolder { get; }

    public string AdapterFolder { get; }

    public string TokenizerFolder { get; }

    /// <summary>The base model (float32, eager attention).</summary>
    public Qwen2VlForConditionalGeneration Model { get; }

    /// <summary>The base model with the DoRA adapter injected, unmerged.</summary>
    public Qwen2VlForConditionalGeneration AdaptedModel { get; }

    /// <summary>A bundle exported from the saved folder (optionally with the adapter merged).</summary>
    internal string Bundle(bool adapter = false, bool diagnostics = false, Vlm2VecExportDType dtype = Vlm2VecExportDType.Float32)
    {
        var key = $"{(adapter ? "dora" : "base")}-{dtype}-{(diagnostics ? "diag" : "plain")}";
        lock (_bundles)
        {
            if (!_bundles.TryGetValue(key, out var folder))
            {
                folder = Path.Combine(Root, "bundles", key);
                var options = new Vlm2VecExportOptions
                {
                    DType = dtype,
                    TokenizerFolder = TokenizerFolder,
                    GraphOptions = diagnostics ? Vlm2VecOnnxExporter.DefaultGraphOptions(dtype) with { IncludeLastHiddenState = true } : null,
                };
                Vlm2VecOnnxExporter.ExportAsync(BaseFolder, adapter ? AdapterFolder : null, folder, options).GetAwaiter().GetResult();
                _bundles[key] = folder;
            }

            return folder;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        AdaptedModel.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string ConfigJson() => string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
          "vocab_size": 300, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3,
          "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu", "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
          "max_position_embeddings": 4096, "tie_word_embeddings": true, "bos_token_id": {{PadToken}}, "eos_token_id": 283,
          "vision_start_token_id": {{VisionStart}}, "vision_end_token_id": {{VisionEnd}}, "vision_token_id": 285,
          "image_token_id": {{ImageToken}}, "video_token_id": 286, "torch_dtype": "float32",
          "vision_config": {"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 4, "in_chans": 3,
            "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
        }
        """);
}

/// <summary>The tests that share <see cref="RandomModels"/>.</summary>
[CollectionDefinition(Name)]
public sealed class RandomModelsCollection : ICollectionFixture<RandomModels>
{
    public const string Name = "random models";
}
