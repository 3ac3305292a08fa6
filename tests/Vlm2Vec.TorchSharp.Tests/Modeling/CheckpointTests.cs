using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>Loading and saving Hugging Face folders, strict name/shape checks, and PEFT adapter merging.</summary>
public sealed class CheckpointTests
{
    private static readonly long[][] Rows = [T.Row(4, 5, 6), T.Row(0, 7, 8, 9)];
    private static readonly (long, long, long, float[])[] Images = [(1, 4, 4, T.Pixels(1, 4, 4, 31))];

    public CheckpointTests() => TorchSharpRuntime.EnsureLoaded();

    [Fact]
    public void Save_then_load_gives_identical_outputs()
    {
        using var folder = new TempFolder();
        using var original = T.Create(seed: 41);
        original.SavePretrained(folder.Path);
        Assert.True(File.Exists(folder.Combine("config.json")));
        Assert.True(File.Exists(folder.Combine("model.safetensors")));
        var config = JsonNode.Parse(File.ReadAllText(folder.Combine("config.json")))!;
        Assert.Equal("float32", config["torch_dtype"]!.GetValue<string>());
        Assert.Equal(T.ImageToken, config["image_token_id"]!.GetValue<int>());
        using (var file = Vlm2Vec.TorchSharp.Checkpoints.SafetensorsFile.Open(folder.Combine("model.safetensors")))
        {
            Assert.Equal("pt", file.Metadata["format"]); // transformers < 4.48.2 needs it
        }

        using var loaded = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path);
        Assert.Equal(original.Config with { TorchDtype = "float32" }, loaded.Config with { MropeSection = original.Config.MropeSection, Architectures = original.Config.Architectures });
        var a = BatchingTests.Embed(original, Rows, true, Images);
        var b = BatchingTests.Embed(loaded, Rows, true, Images);
        Assert.Equal(a[0], b[0]);
        Assert.Equal(a[1], b[1]);
    }

    [Fact]
    public void Loading_in_bfloat16_converts_the_weights()
    {
        using var folder = new TempFolder();
        using (var original = T.Create(seed: 42))
        {
            original.SavePretrained(folder.Path);
        }

        using var bf16 = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path, new Qwen2VlLoadOptions { DType = ScalarType.BFloat16 });
        Assert.All(bf16.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var fp32 = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path);
        var a = BatchingTests.Embed(fp32, Rows, true, Images);
        var b = BatchingTests.Embed(bf16, Rows, true, Images);
        Assert.True(T.Cosine(a[0], b[0]) >= 0.99 && T.Cosine(a[1], b[1]) >= 0.99);

        // A bf16 model saves bf16 tensors and says so.
        using var again = new TempFolder();
        bf16.SavePretrained(again.Path);
        Assert.Contains("\"bfloat16\"", File.ReadAllText(again.Combine("config.json")), StringComparison.Ordinal);
        var state = Safetensors.LoadStateDict(again.Combine("model.safetensors"));
        Assert.All(state.Values, t => Assert.Equal(ScalarType.BFloat16, t.dtype));
    }

    [Fact]
    public void Newer_prefixed_names_in_sharded_files_load_to_the_same_model()
    {
        using var folder = new TempFolder();
        using var original = T.Create(seed: 43);
        original.SavePretrained(folder.Path);
        var state = Safetensors.LoadStateDict(folder.Combine("model.safetensors"));
        File.Delete(folder.Combine("model.safetensors"));

        // transformers >= 4.52 layout: model.language_model.*, model.visual.*; two shards plus an index.
        var renamed = state.ToDictionary(
            kv => kv.Key.StartsWith("visual.", StringComparison.Ordinal) ? "model." + kv.Key : "model.language_model." + kv.Key["model.".Length..],
            kv => kv.Value);
        var first = renamed.Where(kv => kv.Key.Contains("visual", StringComparison.Ordinal)).ToDictionary();
        var second = renamed.Where(kv => !kv.Key.Contains("visual", StringComparison.Ordinal)).ToDictionary();
        Safetensors.SaveStateDict(folder.Combine("model-00001-of-00002.safetensors"), first);
        Safetensors.SaveStateDict(folder.Combine("model-00002-of-00002.safetensors"), second);
        var map = new JsonObject();
        foreach (var key in first.Keys)
        {
            map[key] = "model-00001-of-00002.safetensors";
        }

        foreach (var key in second.Keys)
        {
            map[key] = "model-00002-of-00002.safetensors";
        }

        File.WriteAllText(folder.Combine("model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());

        using var loaded = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path);
        Assert.Equal(BatchingTests.Embed(original, Rows, true, Images)[0], BatchingTests.Embed(loaded, Rows, true, Images)[0]);
    }

    [Fact]
    public void Missing_unexpected_and_misshapen_tensors_are_refused_by_name()
    {
        using var folder = new TempFolder();
        using (var original = T.Create(seed: 44))
        {
            original.SavePretrained(folder.Path);
        }

        var path = folder.Combine("model.safetensors");
        var state = Safetensors.LoadStateDict(path);

        var missing = new Dictionary<string, Tensor>(state);
        missing.Remove("model.layers.1.mlp.down_proj.weight");
        Safetensors.SaveStateDict(path, missing);
        var error = Assert.Throws<ModelFormatException>(() => Qwen2VlForConditionalGeneration.FromPretrained(folder.Path));
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.1.mlp.down_proj.weight", error.Message, StringComparison.Ordinal);

        var extra = new Dictionary<string, Tensor>(state) { ["model.layers.0.self_attn.o_proj.bias"] = zeros(64) };
        Safetensors.SaveStateDict(path, extra);
        error = Assert.Throws<ModelFormatException>(() => Qwen2VlForConditionalGeneration.FromPretrained(folder.Path));
        Assert.Contains("unexpected", error.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.0.self_attn.o_proj.bias", error.Message, StringComparison.Ordinal);

        var misshapen = new Dictionary<string, Tensor>(state) { ["visual.merger.ln_q.weight"] = ones(7) };
        Safetensors.SaveStateDict(path, misshapen);
        error = Assert.Throws<ModelFormatException>(() => Qwen2VlForConditionalGeneration.FromPretrained(folder.Path));
        Assert.Contains("wrong shape: visual.merger.ln_q.weight", error.Message, StringComparison.Ordinal);

        // Tolerated: a tied checkpoint that still carries lm_head.weight, and rotary inv_freq buffers of old saves.
        var tolerated = new Dictionary<string, Tensor>(state)
        {
            ["lm_head.weight"] = state["model.embed_tokens.weight"],
            ["model.layers.0.self_attn.rotary_emb.inv_freq"] = ones(8),
        };
        Safetensors.SaveStateDict(path, tolerated);
        using var loaded = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path);
        Assert.Equal(64, loaded.Dimension);
    }

    [Fact]
    public void Missing_folder_or_weights_give_model_format_errors()
    {
        Assert.Throws<ModelFormatException>(() => Qwen2VlForConditionalGeneration.FromPretrained("/nonexistent/qwen2-vl"));
        using var folder = new TempFolder();
        File.WriteAllText(folder.Combine("config.json"), T.ConfigJson());
        var error = Assert.Throws<ModelFormatException>(() => Qwen2VlForConditionalGeneration.FromPretrained(folder.Path));
        Assert.Contains("model.safetensors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lora_adapter_is_merged_as_w_plus_alpha_over_r_b_a()
    {
        using var folder = new TempFolder();
        using var adapter = new TempFolder();
        using var original = T.Create(seed: 45);
        original.SavePretrained(folder.Path);
        var a = randn(2, 64) * 0.3;
        var b = randn(64, 2) * 0.3;
        WriteAdapter(adapter.Path, """{"peft_type": "LORA", "r": 2, "lora_alpha": 6, "use_dora": false, "target_modules": ["q_proj"]}""", new()
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = a,
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = b,
        });

        using var merged = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path, new Qwen2VlLoadOptions { AdapterPath = adapter.Path });
        var before = Weight(original, "model.layers.0.self_attn.q_proj.weight");
        var after = Weight(merged, "model.layers.0.self_attn.q_proj.weight");
        Assert.True(after.allclose(before + (b.matmul(a) * 3.0), rtol: 1e-5, atol: 1e-6));
        Assert.True(Weight(merged, "model.layers.0.self_attn.k_proj.weight").allclose(Weight(original, "model.layers.0.self_attn.k_proj.weight"), rtol: 0, atol: 0));
        Assert.True(Weight(merged, "model.layers.0.self_attn.q_proj.bias").allclose(Weight(original, "model.layers.0.self_attn.q_proj.bias"), rtol: 0, atol: 0));
    }

    [Fact]
    public void Dora_adapter_rows_get_the_magnitude_norms_and_the_lora_direction()
    {
        using var folder = new TempFolder();
        using var adapter = new TempFolder();
        using var original = T.Create(seed: 46);
        original.SavePretrained(folder.Path);
        var a = randn(4, 96) * 0.2;
        var b = randn(64, 4) * 0.2;
        var magnitude = rand(64) + 0.5;
        // Newer-layout key names and the '.weight'-suffixed magnitude are both accepted.
        WriteAdapter(adapter.Path, """{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_dora": true}""", new()
        {
            ["base_model.model.model.language_model.layers.1.mlp.down_proj.lora_A.weight"] = a,
            ["base_model.model.model.language_model.layers.1.mlp.down_proj.lora_B.weight"] = b,
            ["base_model.model.model.language_model.layers.1.mlp.down_proj.lora_magnitude_vector.weight"] = magnitude,
        });

        using var merged = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path, new Qwen2VlLoadOptions { AdapterPath = adapter.Path });
        var w = Weight(merged, "model.layers.1.mlp.down_proj.weight");
        var direction = Weight(original, "model.layers.1.mlp.down_proj.weight") + (b.matmul(a) * 2.0);
        Assert.True(w.norm(1).allclose(magnitude, rtol: 1e-5, atol: 1e-5), "merged row norms are not the magnitudes");
        var cosine = nn.functional.cosine_similarity(w, direction, 1);
        Assert.True(cosine.min().item<float>() > 0.99999f, "merged rows do not point along W + ΔW");
    }

    [Fact]
    public void Adapter_problems_are_reported()
    {
        using var folder = new TempFolder();
        using var adapter = new TempFolder();
        using (var original = T.Create(seed: 47))
        {
            original.SavePretrained(folder.Path);
        }

        WriteAdapter(adapter.Path, """{"peft_type": "LORA", "r": 2, "lora_alpha": 4}""", new()
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = randn(3, 64),
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = randn(64, 3),
        });
        var error = Assert.Throws<ModelFormatException>(() => Qwen2VlForConditionalGeneration.FromPretrained(folder.Path, new Qwen2VlLoadOptions { AdapterPath = adapter.Path }));
        Assert.Contains("rank 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unmerged_adapter_modules_give_the_merged_outputs()
    {
        using var folder = new TempFolder();
        using var adapter = new TempFolder();
        using (var original = T.Create(seed: 48))
        {
            original.SavePretrained(folder.Path);
        }

        WriteAdapter(adapter.Path, """{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "use_dora": true, "target_modules": ["q_proj", "down_proj"]}""", new()
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = randn(2, 64) * 0.3,
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = randn(64, 2) * 0.3,
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector"] = rand(64) + 0.5,
            ["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"] = randn(2, 96) * 0.3,
            ["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"] = randn(64, 2) * 0.3,
            ["base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector"] = rand(64) + 0.5,
        });

        using var merged = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path, new Qwen2VlLoadOptions { AdapterPath = adapter.Path });
        using var unmerged = Qwen2VlForConditionalGeneration.FromPretrained(folder.Path, new Qwen2VlLoadOptions { AdapterPath = adapter.Path, MergeAdapter = false });
        Assert.Contains(unmerged.named_parameters(), p => p.name.Contains("lora_A", StringComparison.Ordinal));
        Assert.DoesNotContain(merged.named_parameters(), p => p.name.Contains("lora_A", StringComparison.Ordinal));
        var a = BatchingTests.Embed(merged, Rows, true, Images);
        var b = BatchingTests.Embed(unmerged, Rows, true, Images);
        Assert.True(T.MaxAbsDiff(a[0], b[0]) < 1e-5 && T.MaxAbsDiff(a[1], b[1]) < 1e-5, $"{T.MaxAbsDiff(a[0], b[0])}, {T.MaxAbsDiff(a[1], b[1])}");
    }

    private static void WriteAdapter(string folder, string config, Dictionary<string, Tensor> tensors)
    {
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), config);
        Safetensors.SaveStateDict(Path.Combine(folder, "adapter_model.safetensors"), tensors);
    }

    private static Tensor Weight(Qwen2VlForConditionalGeneration model, string name) =>
        model.named_parameters().Single(p => p.name == name).parameter.detach();
}
