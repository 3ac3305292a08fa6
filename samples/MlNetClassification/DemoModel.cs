using System.Globalization;
using Vlm2Vec;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;

namespace MlNetClassification;

/// <summary>
/// A small randomly initialised Qwen2-VL (hidden size 128, two decoder layers, a two-block vision tower) written as a
/// Hugging Face checkpoint folder beside the real Qwen2-VL tokenizer and image-processor files. It runs the exact
/// VLM2Vec preprocessing and model code path in seconds, so the sample works without downloading multi-gigabyte
/// weights; its embeddings are random features, so expect modest accuracy from it.
/// </summary>
internal static class DemoModel
{
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "preprocessor_config.json"];

    public static string Create(string tokenizerFolder, string folder, long seed = 2024)
    {
        foreach (var file in TokenizerFiles)
        {
            if (!File.Exists(Path.Combine(tokenizerFolder, file)))
            {
                throw new FileNotFoundException($"--demo-model needs the Qwen2-VL tokenizer files; '{file}' is not in '{tokenizerFolder}'.");
            }
        }

        if (File.Exists(Path.Combine(folder, "model.safetensors")))
        {
            return folder;
        }

        Directory.CreateDirectory(folder);
        TorchSharpRuntime.EnsureLoaded();
        var config = Qwen2VlConfig.Parse(ConfigJson, "demo config.json");
        using (var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = seed, InitializerRange = 0.1 }))
        {
            model.SavePretrained(folder);
        }

        foreach (var file in TokenizerFiles)
        {
            File.Copy(Path.Combine(tokenizerFolder, file), Path.Combine(folder, file), overwrite: true);
        }

        return folder;
    }

    private static string ConfigJson => string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
          "vocab_size": 151936, "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
          "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu", "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6]},
          "max_position_embeddings": 32768, "tie_word_embeddings": true, "attention_dropout": 0.0,
          "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
          "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656, "torch_dtype": "float32",
          "vision_config": {"depth": 2, "embed_dim": 64, "hidden_size": 128, "num_heads": 2, "mlp_ratio": 2, "in_chans": 3,
            "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
        }
        """);
}
