using System.Collections;
using System.Text.Json.Nodes;
using TorchSharp;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Checkpoints;

public sealed class CheckpointFolderTests : TorchTestBase
{
    internal static Qwen2VlConfig TinyConfig(bool tie = false) => new()
    {
        VocabSize = 16,
        HiddenSize = 8,
        IntermediateSize = 12,
        NumHiddenLayers = 2,
        NumAttentionHeads = 2,
        NumKeyValueHeads = 1,
        HeadDim = 4,
        MropeSection = [1, 1, 0],
        TieWordEmbeddings = tie,
        Vision = new Qwen2VlVisionConfig { Depth = 1, EmbedDim = 8, NumHeads = 2, HiddenSize = 8 },
    };

    [Fact]
    public void Single_file_round_trip_with_config()
    {
        using var folder = new TempFolder();
        var model = TinyQwen2VlModel.Random(1);
        var expected = model.state_dict();
        CheckpointWriter.Write(folder.Path, TinyConfig(), expected);

        var checkpoint = CheckpointFolder.Open(folder.Path);
        Assert.Equal(CheckpointFormat.Safetensors, checkpoint.Format);
        Assert.Equal([folder.Combine("model.safetensors")], checkpoint.WeightFiles);
        var config = checkpoint.LoadConfig();
        Assert.Equal(8, config.HiddenSize);
        Assert.Equal("float32", config.TorchDtype);

        var loaded = checkpoint.LoadStateDict();
        AssertSameStateDict(expected, loaded);
        Assert.Contains("model.layers.1.self_attn.q_proj.weight", loaded.Keys);
        Assert.Contains("visual.blocks.0.attn.qkv.weight", loaded.Keys);
    }

    [Fact]
    public void Sharded_round_trip_with_index_and_progress()
    {
        using var folder = new TempFolder();
        var expected = TinyQwen2VlModel.Random(2).state_dict();
        CheckpointWriter.Write(folder.Path, TinyConfig(), expected, new CheckpointWriteOptions { MaxShardBytes = 700 });

        var checkpoint = CheckpointFolder.Open(folder.Path);
        Assert.Equal(CheckpointFormat.ShardedSafetensors, checkpoint.Format);
        Assert.True(checkpoint.WeightFiles.Count >= 3, $"expected several shards, got {checkpoint.WeightFiles.Count}");
        Assert.False(File.Exists(folder.Combine("model.safetensors")));
        var index = JsonNode.Parse(File.ReadAllText(folder.Combine("model.safetensors.index.json")))!;
        var totalBytes = expected.Values.Sum(t => t.numel() * t.ElementSize);
        Assert.Equal(totalBytes, index["metadata"]!["total_size"]!.GetValue<long>());
        Assert.Equal(expected.Count, index["weight_map"]!.AsObject().Count);
        foreach (var shard in checkpoint.WeightFiles)
        {
            Assert.Matches($@"model-\d{{5}}-of-{checkpoint.WeightFiles.Count:D5}\.safetensors$", shard);
        }

        var reports = new List<CheckpointLoadProgress>();
        var loaded = checkpoint.LoadStateDict(progress: new SynchronousProgress<CheckpointLoadProgress>(reports.Add));
        AssertSameStateDict(expected, loaded);
        Assert.Equal(expected.Count, reports.Count);
        Assert.Equal(Enumerable.Range(1, expected.Count), reports.Select(r => r.TensorsLoaded));
        Assert.Equal(checkpoint.WeightFiles.Count - 1, reports[^1].FileIndex);
        Assert.Equal(totalBytes, reports[^1].BytesLoaded);
        Assert.All(reports, r => Assert.InRange(r.Fraction, 0, 1));
    }

    [Fact]
    public void Rewriting_as_one_file_removes_old_shards()
    {
        using var folder = new TempFolder();
        var expected = TinyQwen2VlModel.Random(3).state_dict();
        CheckpointWriter.Write(folder.Path, TinyConfig(), expected, new CheckpointWriteOptions { MaxShardBytes = 700 });
        CheckpointWriter.Write(folder.Path, TinyConfig(), expected);

        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
        AssertSameStateDict(expected, CheckpointFolder.Open(folder.Path).LoadStateDict());
    }

    [Fact]
    public void Nested_layout_of_transformers_4_52_loads_with_classic_names()
    {
        using var folder = new TempFolder();
        var expected = TinyQwen2VlModel.Random(4).state_dict();
        CheckpointWriter.Write(folder.Path, TinyConfig(), expected, new CheckpointWriteOptions { Layout = WeightNameLayout.Nested });

        using (var file = SafetensorsFile.Open(folder.Combine("model.safetensors")))
        {
            Assert.Contains(file.Tensors, t => t.Name == "model.language_model.layers.0.mlp.up_proj.weight");
            Assert.Contains(file.Tensors, t => t.Name == "model.visual.merger.mlp.2.bias");
            Assert.Contains(file.Tensors, t => t.Name == "lm_head.weight");
            Assert.DoesNotContain(file.Tensors, t => t.Name.StartsWith("visual.", StringComparison.Ordinal));
        }

        AssertSameStateDict(expected, CheckpointFolder.Open(folder.Path).LoadStateDict());
    }

    [Fact]
    public void Peft_merged_prefix_is_removed()
    {
        using var folder = new TempFolder();
        var expected = TinyQwen2VlModel.Random(5).state_dict();
        SafetensorsFile.Write(folder.Combine("model.safetensors"), expected.ToDictionary(kv => "base_model.model." + kv.Key, kv => kv.Value));
        AssertSameStateDict(expected, CheckpointFolder.Open(folder.Path).LoadStateDict());
    }

    [Fact]
    public void A_tensor_present_under_two_layouts_is_an_error()
    {
        using var folder = new TempFolder();
        SafetensorsFile.Write(folder.Combine("model.safetensors"), new Dictionary<string, Tensor>
        {
            ["model.norm.weight"] = ones(4),
            ["model.language_model.norm.weight"] = ones(4),
        });
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(folder.Path).LoadStateDict());
        Assert.Contains("both map to 'model.norm.weight'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PyTorch_bin_single_and_sharded_load_with_canonical_names()
    {
        var expected = TinyQwen2VlModel.Random(6).state_dict();

        using (var single = new TempFolder())
        {
            var table = new Hashtable();
            foreach (var (name, tensor) in expected)
            {
                table[WeightNames.ToLayout(name, WeightNameLayout.Nested)] = tensor;
            }

            global::TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(single.Combine("pytorch_model.bin"), table);
            var checkpoint = CheckpointFolder.Open(single.Path);
            Assert.Equal(CheckpointFormat.PyTorchBin, checkpoint.Format);
            AssertSameStateDict(expected, checkpoint.LoadStateDict());
        }

        using var sharded = new TempFolder();
        var names = expected.Keys.Order(StringComparer.Ordinal).ToList();
        var weightMap = new JsonObject();
        for (var part = 0; part < 2; part++)
        {
            var file = $"pytorch_model-0000{part + 1}-of-00002.bin";
            var table = new Hashtable();
            foreach (var name in names.Where((_, i) => i % 2 == part))
            {
                table[name] = expected[name];
                weightMap[name] = file;
            }

            global::TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(sharded.Combine(file), table);
        }

        File.WriteAllText(sharded.Combine("pytorch_model.bin.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = weightMap }.ToJsonString());
        var shardedCheckpoint = CheckpointFolder.Open(sharded.Path);
        Assert.Equal(CheckpointFormat.ShardedPyTorchBin, shardedCheckpoint.Format);
        Assert.Equal(2, shardedCheckpoint.WeightFiles.Count);
        var reports = new List<CheckpointLoadProgress>();
        AssertSameStateDict(expected, shardedCheckpoint.LoadStateDict(progress: new SynchronousProgress<CheckpointLoadProgress>(reports.Add)));
        Assert.Equal([0, 1], reports.Select(r => r.FileIndex).Distinct());

        // An index that assigns a tensor to a shard that lacks it.
        weightMap["model.extra.weight"] = "pytorch_model-00001-of-00002.bin";
        File.WriteAllText(sharded.Combine("pytorch_model.bin.index.json"), new JsonObject { ["weight_map"] = weightMap.DeepClone() }.ToJsonString());
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(sharded.Path).LoadStateDict());
        Assert.Contains("model.extra.weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_a_torch_zip_bin_is_a_model_format_error()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.Combine("pytorch_model.bin"), [0x80, 0x02, 0x8a, 0x0a, 1, 2, 3, 4]);
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(folder.Path).LoadStateDict());
        Assert.Contains("pytorch_model.bin", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadInto_copies_every_tensor_into_the_module_in_the_module_type()
    {
        using var folder = new TempFolder();
        var source = TinyQwen2VlModel.Random(7);
        CheckpointWriter.Write(folder.Path, TinyConfig(), source.state_dict());

        var target = TinyQwen2VlModel.Random(8, dtype: ScalarType.BFloat16);
        CheckpointFolder.Open(folder.Path).LoadInto(target);

        var expected = source.state_dict();
        foreach (var (name, tensor) in target.state_dict())
        {
            Assert.Equal(ScalarType.BFloat16, tensor.dtype);
            AssertIdentical(expected[name].to(ScalarType.BFloat16), tensor, name);
        }
    }

    [Fact]
    public void Tied_embeddings_fill_a_missing_head_and_untied_ones_report_it()
    {
        using var folder = new TempFolder();
        var source = TinyQwen2VlModel.Random(9).state_dict();
        source.Remove("lm_head.weight");
        CheckpointWriter.Write(folder.Path, TinyConfig(tie: true), source);

        var target = TinyQwen2VlModel.Random(10);
        CheckpointFolder.Open(folder.Path).LoadInto(target);
        AssertIdentical(source["model.embed_tokens.weight"], target.state_dict()["lm_head.weight"]);

        var untied = TinyQwen2VlModel.Random(11);
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(folder.Path).LoadInto(untied, new CheckpointLoadOptions { TieWordEmbeddings = false }));
        Assert.Contains("missing: lm_head.weight [16, 8]", ex.Message, StringComparison.Ordinal);

        var embeddingModel = TinyQwen2VlModel.Random(12);
        var headBefore = embeddingModel.state_dict()["lm_head.weight"].clone();
        CheckpointFolder.Open(folder.Path).LoadInto(embeddingModel, new CheckpointLoadOptions { TieWordEmbeddings = false, SkipLanguageModelHead = true });
        AssertIdentical(headBefore, embeddingModel.state_dict()["lm_head.weight"]);
        AssertIdentical(source["model.norm.weight"], embeddingModel.state_dict()["model.norm.weight"]);
    }

    [Fact]
    public void One_exception_names_every_missing_unexpected_and_misshaped_tensor()
    {
        using var folder = new TempFolder();
        var source = TinyQwen2VlModel.Random(13).state_dict();
        source.Remove("model.layers.1.mlp.up_proj.weight");
        source.Remove("visual.blocks.0.mlp.fc2.bias");
        source["model.layers.0.self_attn.rotary.inv_freq"] = ones(2);
        source["model.norm.weight"] = ones(9);
        CheckpointWriter.Write(folder.Path, TinyConfig(), source);

        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(folder.Path).LoadInto(TinyQwen2VlModel.Random(14)));
        Assert.Contains("2 missing, 1 unexpected, 1 with the wrong shape", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing: model.layers.1.mlp.up_proj.weight [12, 8]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing: visual.blocks.0.mlp.fc2.bias [6]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected: model.layers.0.self_attn.rotary.inv_freq [2]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("wrong shape: model.norm.weight is [9] in the checkpoint; the model expects [8]", ex.Message, StringComparison.Ordinal);

        // The same through the in-memory validator; bin checkpoints (no headers) report the same after loading.
        var direct = Assert.Throws<ModelFormatException>(() => StateDictValidator.Validate(source, TinyQwen2VlModel.Random(15)));
        Assert.Contains("2 missing, 1 unexpected, 1 with the wrong shape", direct.Message, StringComparison.Ordinal);

        using var binFolder = new TempFolder();
        var table = new Hashtable();
        foreach (var (name, tensor) in source)
        {
            table[name] = tensor;
        }

        global::TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(binFolder.Combine("pytorch_model.bin"), table);
        var fromBin = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(binFolder.Path).LoadInto(TinyQwen2VlModel.Random(16)));
        Assert.Contains("2 missing, 1 unexpected, 1 with the wrong shape", fromBin.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dtype_conversion_and_tensor_filter_on_load()
    {
        using var folder = new TempFolder();
        var source = TinyQwen2VlModel.Random(17).state_dict();
        CheckpointWriter.Write(folder.Path, TinyConfig(), source);
        var checkpoint = CheckpointFolder.Open(folder.Path);

        var bf16 = checkpoint.LoadStateDict(new CheckpointLoadOptions { DType = ScalarType.BFloat16 });
        Assert.All(bf16.Values, t => Assert.Equal(ScalarType.BFloat16, t.dtype));
        AssertIdentical(source["model.embed_tokens.weight"].to(ScalarType.BFloat16), bf16["model.embed_tokens.weight"]);

        var visionOnly = checkpoint.LoadStateDict(new CheckpointLoadOptions { IncludeTensor = n => n.StartsWith("visual.", StringComparison.Ordinal) });
        Assert.NotEmpty(visionOnly);
        Assert.All(visionOnly.Keys, k => Assert.StartsWith("visual.", k, StringComparison.Ordinal));

        var target = TinyQwen2VlModel.Random(18);
        var textBefore = target.state_dict()["model.norm.weight"].clone();
        checkpoint.LoadInto(target, new CheckpointLoadOptions { IncludeTensor = n => n.StartsWith("visual.", StringComparison.Ordinal) });
        AssertIdentical(source["visual.merger.mlp.0.weight"], target.state_dict()["visual.merger.mlp.0.weight"]);
        AssertIdentical(textBefore, target.state_dict()["model.norm.weight"]);
    }

    [Fact]
    public void Folders_without_weights_or_with_missing_shards_are_explained()
    {
        using var empty = new TempFolder();
        File.WriteAllText(empty.Combine("adapter_config.json"), "{}");
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(empty.Path));
        Assert.Contains("has no model weights", ex.Message, StringComparison.Ordinal);
        Assert.Contains("adapter_config.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("PEFT adapter", ex.Message, StringComparison.Ordinal);

        using var sharded = new TempFolder();
        File.WriteAllText(sharded.Combine("model.safetensors.index.json"), """{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}""");
        SafetensorsFile.Write(sharded.Combine("model-00001-of-00002.safetensors"), new Dictionary<string, Tensor> { ["a"] = ones(1) });
        ex = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(sharded.Path));
        Assert.Contains("model-00002-of-00002.safetensors", ex.Message, StringComparison.Ordinal);

        File.WriteAllText(sharded.Combine("model.safetensors.index.json"), """{"weight_map":{"a":"../elsewhere.safetensors"}}""");
        Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(sharded.Path));
        Assert.Throws<ModelFormatException>(() => CheckpointFolder.Open(empty.Combine("nope")));
    }

    internal static void AssertSameStateDict(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in expected)
        {
            AssertIdentical(tensor, actual[name], name);
        }
    }

    /// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
