using System.Globalization;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>
/// A Hugging Face checkpoint folder holding a tiny random Qwen2-VL (hidden size 64, two layers, a two-block vision
/// tower) with Qwen's vocabulary size and special-token ids, beside the real Qwen2-VL tokenizer and image processor
/// files, so that the TorchSharp engine opens it exactly as it opens a real checkpoint.
/// </summary>
internal sealed class TinyQwen2VlFolder : IDisposable
{
    private readonly TempFolder _folder = new("vlm2vec-ml-tiny");

    public TinyQwen2VlFolder(long seed = 11)
    {
        TorchSharpRuntime.EnsureLoaded();
        var config = Qwen2VlConfig.Parse(ConfigJson, "tiny config.json");
        using (var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = seed, InitializerRange = 0.2 }))
        {
            model.SavePretrained(_folder.Path);
        }

        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json" })
        {
            File.Copy(SharedData.Path("tokenizer", "qwen2-vl", file), _folder.Combine(file));
        }
    }

    public string Path => _folder.Path;

    public const int Dimension = 64;

    private static string ConfigJson => string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
          "vocab_size": 151936, "hidden_size": {{Dimension}}, "intermediate_size": 96, "num_hidden_layers": 2,
          "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu", "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
          "max_position_embeddings": 32768, "tie_word_embeddings": true, "attention_dropout": 0.0,
          "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
          "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656, "torch_dtype": "float32",
          "vision_config": {"depth": 2, "embed_dim": 32, "hidden_size": {{Dimension}}, "num_heads": 2, "mlp_ratio": 2, "in_chans": 3,
            "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
        }
        """);

    public void Dispose()
    {
        ModelSessions.ReleaseFolder(Path);
        _folder.Dispose();
    }
}
