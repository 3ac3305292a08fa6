using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Peft;

/// <summary>Merges the reference adapters into the reference base model and compares with the reference merged weights.</summary>
public sealed class ReferenceAdapterTests : TorchTestBase
{
    private const double MergedTolerance = 1e-5;

    [Theory]
    [InlineData("dora", "dora-expected")]
    [InlineData("dora-newlayout", "dora-expected")]
    [InlineData("lora", "lora-expected")]
    public void Merging_while_loading_matches_the_reference_merged_weights(string adapterFolder, string expectedFolder)
    {
        using var adapter = PeftAdapter.Load(ReferenceFixtures.Path("adapters", adapterFolder));
        var merged = CheckpointFolder.Open(ReferenceFixtures.Path("models", "tiny-qwen2vl-tied")).LoadStateDict(new CheckpointLoadOptions { Adapter = adapter });
        AssertMatchesReference(merged, expectedFolder, adapter);
    }

    [Fact]
    public void The_pickled_dora_adapter_equals_the_safetensors_one_and_merges_the_same()
    {
        var folder = ReferenceFixtures.Path("adapters", "dora");
        using var fromSafetensors = PeftAdapter.Load(folder);
        using var fromBin = PeftAdapterFromBin(folder);
        Assert.Equal(fromSafetensors.TargetModules, fromBin.TargetModules);
        foreach (var module in fromSafetensors.TargetModules)
        {
            var a = fromSafetensors.GetTarget(module)!;
            var b = fromBin.GetTarget(module)!;
            AssertIdentical(a.LoraA, b.LoraA, module + " A");
            AssertIdentical(a.LoraB, b.LoraB, module + " B");
            AssertIdentical(a.Magnitude!, b.Magnitude!, module + " m");
        }

        var stateDict = CheckpointFolder.Open(ReferenceFixtures.Path("models", "tiny-qwen2vl-tied-bin")).LoadStateDict();
        fromBin.MergeInto(stateDict);
        AssertMatchesReference(stateDict, "dora-expected", fromBin);
    }

    [Fact]
    public void Unmerged_dora_forward_of_layer0_q_proj_matches_the_reference()
    {
        using var adapter = PeftAdapter.Load(ReferenceFixtures.Path("adapters", "dora"));
        var weights = CheckpointFolder.Open(ReferenceFixtures.Path("models", "tiny-qwen2vl-tied")).LoadStateDict(
            new CheckpointLoadOptions { IncludeTensor = n => n.StartsWith("model.layers.0.self_attn.q_proj.", StringComparison.Ordinal) });
        var weight = weights["model.layers.0.self_attn.q_proj.weight"];
        var baseLinear = nn.Linear(weight.shape[1], weight.shape[0]);
        using (no_grad())
        {
            baseLinear.weight!.copy_(weight);
            baseLinear.bias!.copy_(weights["model.layers.0.self_attn.q_proj.bias"]);
        }

        const string module = "model.layers.0.self_attn.q_proj";
        var dora = new DoraLinear(baseLinear, adapter.Config, module);
        var target = adapter.GetTarget(module)!;
        using (no_grad())
        {
            dora.LoraA.weight!.copy_(target.LoraA);
            dora.LoraB.weight!.copy_(target.LoraB);
            dora.Magnitude.copy_(target.Magnitude!);
        }

        dora.eval();
        var (inputShape, input) = ReferenceFixtures.ReadFloatNpy(ReferenceFixtures.Path("adapters", "dora-expected", "q_proj_layer0_input.npy"));
        var (outputShape, output) = ReferenceFixtures.ReadFloatNpy(ReferenceFixtures.Path("adapters", "dora-expected", "q_proj_layer0_unmerged_output.npy"));
        var actual = dora.forward(tensor(input, inputShape));
        AssertClose(tensor(output, outputShape), actual, MergedTolerance, "unmerged DoRA q_proj output");
    }

    [Fact]
    public void Bf16_bin_and_sharded_reference_checkpoints_load_consistently()
    {
        var fp32 = CheckpointFolder.Open(ReferenceFixtures.Path("models", "tiny-qwen2vl-tied"));
        Assert.Equal(CheckpointFormat.Safetensors, fp32.Format);
        var reference = fp32.LoadStateDict();
        Assert.DoesNotContain("lm_head.weight", reference.Keys);
        Assert.True(fp32.TieWordEmbeddings(new CheckpointLoadOptions()));

        // The bf16 file is the fp32 weights rounded to nearest-even bf16: converting on load gives the same bits.
        var bf16 = CheckpointFolder.Open(ReferenceFixtures.Path("models", "tiny-qwen2vl-tied-bf16")).LoadStateDict();
        var converted = fp32.LoadStateDict(new CheckpointLoadOptions { DType = ScalarType.BFloat16 });
        CheckpointFolderTests.AssertSameStateDict(bf16, converted);

        var bin = CheckpointFolder.Open(ReferenceFixtures.Path("models", "tiny-qwen2vl-tied-bin"));
        Assert.Equal(CheckpointFormat.PyTorchBin, bin.Format);
        CheckpointFolderTests.AssertSameStateDict(reference, bin.LoadStateDict());

        var sharded = CheckpointFolder.Open(ReferenceFixtures.Path("models", "tiny-qwen2vl-untied-sharded"));
        Assert.Equal(CheckpointFormat.ShardedSafetensors, sharded.Format);
        var untied = sharded.LoadStateDict();
        Assert.Contains("lm_head.weight", untied.Keys);
        Assert.Contains("visual.merger.mlp.2.weight", untied.Keys);
        Assert.Contains("model.layers.2.mlp.down_proj.weight", untied.Keys);
        Assert.False(sharded.TieWordEmbeddings(new CheckpointLoadOptions()));
        Assert.Equal(3, sharded.LoadConfig().NumHiddenLayers);
    }

    private static PeftAdapter PeftAdapterFromBin(string folder)
    {
        // Same config, weights only from adapter_model.bin.
        using var temp = new Vlm2Vec.TestSupport.TempFolder();
        File.Copy(Path.Combine(folder, "adapter_config.json"), temp.Combine("adapter_config.json"));
        File.Copy(Path.Combine(folder, "adapter_model.bin"), temp.Combine("adapter_model.bin"));
        return PeftAdapter.Load(temp.Path);
    }

    private static void AssertMatchesReference(IReadOnlyDictionary<string, Tensor> merged, string expectedFolder, PeftAdapter adapter)
    {
        using var expected = SafetensorsFile.Open(ReferenceFixtures.Path("adapters", expectedFolder, "merged_weights.safetensors"));
        Assert.Equal(adapter.TargetModules.Select(m => m + ".weight").Order(StringComparer.Ordinal), expected.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var info in expected.Tensors)
        {
            AssertClose(expected.ReadTensor(info.Name), merged[info.Name], MergedTolerance, info.Name);
        }
    }
}
