using System.Collections;
using System.Text.Json.Nodes;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Peft;

public sealed class PeftAdapterTests : TorchTestBase
{
    private static Tensor Ids => tensor(new long[] { 1, 5, 9, 2, 15, 0, 7, 7 }, [2, 4]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Save_writes_peft_keys_and_load_apply_reproduces_the_trained_model(bool dora)
    {
        using var folder = new TempFolder();
        var (config, trainedOutput, adapter) = TrainedAdapter(dora, seed: 1);
        adapter.Save(folder.Path);

        Assert.True(File.Exists(folder.Combine("adapter_config.json")));
        var json = JsonNode.Parse(File.ReadAllText(folder.Combine("adapter_config.json")))!;
        Assert.Equal("LORA", json["peft_type"]!.GetValue<string>());
        Assert.Equal(dora, json["use_dora"]!.GetValue<bool>());
        Assert.Equal(2, json["r"]!.GetValue<int>());
        using (var file = SafetensorsFile.Open(folder.Combine("adapter_model.safetensors")))
        {
            var names = file.Tensors.Select(t => t.Name).ToHashSet();
            Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", names);
            Assert.Contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", names);
            Assert.Equal(dora, names.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector"));
            Assert.Equal(10 * (dora ? 3 : 2), names.Count);
            Assert.Equal(new long[] { 2, 8 }, file.GetInfo("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").Shape);
            Assert.Equal("pt", file.Metadata["format"]);
        }

        using var loaded = PeftAdapter.Load(folder.Path);
        Assert.Equal(adapter.TargetModules, loaded.TargetModules);
        Assert.Equal(config.UseDora, loaded.Config.UseDora);

        var fresh = TinyQwen2VlModel.Random(1);
        LoraInjector.Apply(fresh, loaded);
        fresh.eval();
        AssertClose(trainedOutput, fresh.forward(Ids), 1e-6, "reloaded unmerged adapter");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_merge_path_matches_the_unmerged_model(bool dora)
    {
        var (_, trainedOutput, adapter) = TrainedAdapter(dora, seed: 2);

        // In-memory state dict.
        var stateDict = TinyQwen2VlModel.Random(2).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        adapter.MergeInto(stateDict);
        var viaStateDict = TinyQwen2VlModel.Random(99);
        viaStateDict.load_state_dict(stateDict);
        viaStateDict.eval();
        AssertClose(trainedOutput, viaStateDict.forward(Ids), 2e-5, "MergeInto");

        // Streaming from a checkpoint folder.
        using var folder = new TempFolder();
        CheckpointWriter.Write(folder.Path, CheckpointFolderTests.TinyConfig(), TinyQwen2VlModel.Random(2).state_dict(), new CheckpointWriteOptions { MaxShardBytes = 1000 });
        var viaFolder = TinyQwen2VlModel.Random(98);
        CheckpointFolder.Open(folder.Path).LoadInto(viaFolder, new CheckpointLoadOptions { Adapter = adapter });
        viaFolder.eval();
        AssertClose(trainedOutput, viaFolder.forward(Ids), 2e-5, "LoadInto with adapter");

        var bf16 = CheckpointFolder.Open(folder.Path).LoadStateDict(new CheckpointLoadOptions { Adapter = adapter, DType = ScalarType.BFloat16 });
        Assert.Equal(ScalarType.BFloat16, bf16["model.layers.0.self_attn.q_proj.weight"].dtype);
        AssertIdentical(stateDict["model.layers.0.self_attn.q_proj.weight"].to(ScalarType.BFloat16), bf16["model.layers.0.self_attn.q_proj.weight"]);
    }

    [Fact]
    public void Old_and_new_key_layouts_with_or_without_adapter_name_load_the_same()
    {
        var (config, trainedOutput, adapter) = TrainedAdapter(dora: true, seed: 3);
        var saved = adapter.ToPeftStateDict(WeightNameLayout.Classic);
        var variant = new Dictionary<string, Tensor>();
        foreach (var (key, tensor) in saved)
        {
            // transformers ≥ 4.52 module tree, adapter name "default", magnitude with ".weight".
            var nested = "base_model.model." + WeightNames.ToLayout(key["base_model.model.".Length..], WeightNameLayout.Nested);
            var renamed = nested
                .Replace(".lora_A.weight", ".lora_A.default.weight", StringComparison.Ordinal)
                .Replace(".lora_B.weight", ".lora_B.default.weight", StringComparison.Ordinal)
                .Replace(".lora_magnitude_vector", ".lora_magnitude_vector.default.weight", StringComparison.Ordinal);
            variant[renamed] = tensor;
        }

        Assert.Contains("base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_magnitude_vector.default.weight", variant.Keys);
        using var reread = PeftAdapter.FromStateDict(config, variant);
        Assert.Equal(adapter.TargetModules, reread.TargetModules);

        var merged = TinyQwen2VlModel.Random(3).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        reread.MergeInto(merged);
        var model = TinyQwen2VlModel.Random(97);
        model.load_state_dict(merged);
        model.eval();
        AssertClose(trainedOutput, model.forward(Ids), 2e-5);

        // Magnitude without ".weight" but with the adapter name (a ParameterDict entry) is read too.
        var parameterDictStyle = saved.ToDictionary(
            kv => kv.Key.Replace(".lora_magnitude_vector", ".lora_magnitude_vector.default", StringComparison.Ordinal),
            kv => kv.Value);
        using var third = PeftAdapter.FromStateDict(config, parameterDictStyle);
        Assert.Equal(adapter.TargetModules, third.TargetModules);
    }

    [Fact]
    public void Pickled_adapter_model_bin_loads()
    {
        using var folder = new TempFolder();
        var (config, trainedOutput, adapter) = TrainedAdapter(dora: true, seed: 4);
        var table = new Hashtable();
        foreach (var (key, tensor) in adapter.ToPeftStateDict(WeightNameLayout.Classic))
        {
            table[key] = tensor;
        }

        global::TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(folder.Combine("adapter_model.bin"), table);
        File.WriteAllText(folder.Combine("adapter_config.json"), config.ToJson());

        using var loaded = PeftAdapter.Load(folder.Path);
        var model = TinyQwen2VlModel.Random(4);
        LoraInjector.Apply(model, loaded);
        model.eval();
        AssertClose(trainedOutput, model.forward(Ids), 1e-6);
    }

    [Fact]
    public void An_adapter_for_another_base_is_refused_naming_the_tensors()
    {
        var (_, _, adapter) = TrainedAdapter(dora: true, seed: 5);
        var otherBase = TinyQwen2VlModel.Random(5, new TinySizes(Intermediate: 16, KvDim: 2));

        var ex = Assert.Throws<ModelFormatException>(() => adapter.ValidateAgainst(StateDictValidator.ExpectedShapes(otherBase)));
        Assert.Contains("another base model", ex.Message, StringComparison.Ordinal);
        Assert.Contains("base_model_name_or_path 'Qwen/Qwen2-VL-2B-Instruct'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.0.mlp.down_proj: lora_A is [2, 12] (in = 12) but the base weight is [8, 16] (in = 16)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.1.self_attn.k_proj: lora_B is [4, 2] (out = 4) but the base weight is [2, 8] (out = 2)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.1.self_attn.v_proj: lora_magnitude_vector has 4 entries but the base weight has 2 output rows", ex.Message, StringComparison.Ordinal);

        using var folder = new TempFolder();
        CheckpointWriter.Write(folder.Path, CheckpointFolderTests.TinyConfig(), otherBase.state_dict());
        var viaLoad = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(folder.Path).LoadStateDict(new CheckpointLoadOptions { Adapter = adapter }));
        Assert.Contains("model.layers.0.mlp.down_proj", viaLoad.Message, StringComparison.Ordinal);
        Assert.Throws<ModelFormatException>(() => LoraInjector.Apply(otherBase, adapter));

        var fewerLayers = TinyQwen2VlModel.Random(6, new TinySizes(Layers: 1));
        var missing = Assert.Throws<ModelFormatException>(() => adapter.MergeInto(fewerLayers.state_dict()));
        Assert.Contains("model.layers.1.self_attn.q_proj: the base model has no model.layers.1.self_attn.q_proj.weight", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inconsistent_adapters_are_refused()
    {
        var a = ones(2, 8);
        var b = ones(8, 2);
        var dora = new LoraConfig { R = 2, UseDora = true, TargetModules = ["q_proj"] };
        var noMagnitude = Assert.Throws<ModelFormatException>(() => PeftAdapter.FromStateDict(dora, new Dictionary<string, Tensor>
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = a,
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = b,
        }));
        Assert.Contains("use_dora but there is no lora_magnitude_vector", noMagnitude.Message, StringComparison.Ordinal);

        var wrongRank = Assert.Throws<ModelFormatException>(() => PeftAdapter.FromStateDict(dora with { UseDora = false, R = 4 }, new Dictionary<string, Tensor>
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = a,
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = b,
        }));
        Assert.Contains("rank 2 in the weights, 4 in the config", wrongRank.Message, StringComparison.Ordinal);

        var twoAdapters = Assert.Throws<ModelFormatException>(() => PeftAdapter.FromStateDict(dora with { UseDora = false }, new Dictionary<string, Tensor>
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.first.weight"] = a,
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.second.weight"] = b,
        }));
        Assert.Contains("several adapters", twoAdapters.Message, StringComparison.Ordinal);

        var embedding = Assert.Throws<ModelFormatException>(() => PeftAdapter.FromStateDict(dora, new Dictionary<string, Tensor>
        {
            ["base_model.model.model.embed_tokens.lora_embedding_A"] = a,
        }));
        Assert.Contains("embedding layer", embedding.Message, StringComparison.Ordinal);

        using var folder = new TempFolder();
        File.WriteAllText(folder.Combine("adapter_config.json"), dora.ToJson());
        var noWeights = Assert.Throws<ModelFormatException>(() => PeftAdapter.Load(folder.Path));
        Assert.Contains("adapter_model.safetensors", noWeights.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Modules_to_save_tensors_replace_base_tensors_on_merge()
    {
        var config = new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = ["q_proj"], ModulesToSave = ["norm"] };
        var newNorm = full(8, 3f);
        var newBias = full(8, -1f);
        using var adapter = PeftAdapter.FromStateDict(config, new Dictionary<string, Tensor>
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = ones(2, 8),
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = zeros(8, 2),
            ["base_model.model.model.norm.weight"] = newNorm,
            ["base_model.model.model.norm.modules_to_save.default.bias"] = newBias,
        });
        Assert.Equal(["model.norm.bias", "model.norm.weight"], adapter.ReplacedTensors.Order(StringComparer.Ordinal));

        var stateDict = TinyQwen2VlModel.Random(7).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var q = stateDict["model.layers.0.self_attn.q_proj.weight"].clone();
        adapter.MergeInto(stateDict);
        AssertIdentical(newNorm, stateDict["model.norm.weight"]);
        AssertIdentical(newBias, stateDict["model.norm.bias"]);
        AssertIdentical(q, stateDict["model.layers.0.self_attn.q_proj.weight"], "B = 0 leaves q_proj as it was");
    }

    /// <summary>A tiny model with injected, randomised adapters: its eval output and the extracted adapter.</summary>
    private static (LoraConfig Config, Tensor Output, PeftAdapter Adapter) TrainedAdapter(bool dora, long seed)
    {
        var config = LoraConfig.Vlm2VecV1 with { R = 2, UseDora = dora };
        var model = TinyQwen2VlModel.Random(seed);
        LoraInjector.Inject(model, config, new LoraInjectOptions { Seed = seed });
        LoraInjectorTests.Perturb(model, seed + 100);
        model.eval();
        var output = model.forward(Ids);
        return (config, output, LoraInjector.ExtractAdapter(model, config));
    }
}
