using System.Text.Json.Nodes;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;
using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>The final outputs load with the existing loaders and embed exactly like the trained model.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainingOutputTests : TorchTestBase, IClassFixture<BaseModelFixture>
{
    private readonly BaseModelFixture _base;

    public TrainingOutputTests(BaseModelFixture fixture) => _base = fixture;

    private static List<ContrastiveExample> Data() => [.. TrainingFixture.TextPairs(8), .. TrainingFixture.ImagePairs(2, 2)];

    private static List<MultimodalInput> Probe() =>
    [
        MultimodalInput.FromText("a picture of a boat", "Find the matching word"),
        MultimodalInput.FromText("boat", role: EmbeddingRole.Target),
        .. TrainingFixture.ImagePairs(3, 1).Select(e => e.Query),
    ];

    [Fact]
    public void The_dora_adapter_is_a_peft_folder_whose_merged_and_unmerged_loads_embed_like_the_trained_model()
    {
        using var temp = new TempFolder("outputs-lora");
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: _base.Folder) with { MaxSteps = 3, WarmupSteps = 0 };
        using var trainer = ContrastiveTrainer.Create(options);
        var result = trainer.Train(Data());
        Assert.Null(result.ModelFolder);
        var trained = Embed(trainer.Model, trainer.Preprocessor, Probe());

        using (var adapter = PeftAdapter.Load(result.AdapterFolder!))
        {
            Assert.True(adapter.Config.UseDora);
            Assert.Equal(16, adapter.Config.R);
            Assert.Equal(Path.GetFullPath(_base.Folder), adapter.Config.BaseModelNameOrPath);
            Assert.Equal(2 * 7, adapter.TargetModules.Count); // q/k/v/o/gate/up/down_proj of 2 layers
        }

        using var merged = Qwen2VlForConditionalGeneration.FromPretrained(_base.Folder, new Qwen2VlLoadOptions { AdapterPath = result.AdapterFolder });
        using var unmerged = Qwen2VlForConditionalGeneration.FromPretrained(_base.Folder, new Qwen2VlLoadOptions { AdapterPath = result.AdapterFolder, MergeAdapter = false });
        using var untouched = Qwen2VlForConditionalGeneration.FromPretrained(_base.Folder);
        AssertClose(trained, Embed(merged, trainer.Preprocessor, Probe()), 1e-4, "merged vs trained");
        AssertClose(trained, Embed(unmerged, trainer.Preprocessor, Probe()), 1e-5, "unmerged vs trained");
        Assert.True(trained.sub(Embed(untouched, trainer.Preprocessor, Probe())).abs().max().item<float>() > 1e-3, "the adapter changed nothing");
    }

    [Fact]
    public void Merge_writes_a_model_folder_that_the_encoder_loads_with_its_preprocessing()
    {
        using var temp = new TempFolder("outputs-merge");
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: _base.Folder) with { MaxSteps = 3, WarmupSteps = 0, MergeAdapter = true };
        using var trainer = ContrastiveTrainer.Create(options);
        var result = trainer.Train(Data());
        var expected = Embed(trainer.Model, trainer.Preprocessor, Probe()); // merged in place by then

        using var encoder = TorchSharpVlm2VecEncoder.FromPretrained(result.ModelFolder!);
        var actual = Embed(encoder.Model, encoder.Preprocessor, Probe());
        AssertClose(expected, actual, 1e-5, "model folder vs trained");

        // The pixel budget the run used travels with the model.
        var processor = JsonNode.Parse(File.ReadAllText(Path.Combine(result.ModelFolder!, "preprocessor_config.json")))!;
        Assert.Equal(56 * 56, processor["min_pixels"]!.GetValue<long>());
        Assert.Equal(56 * 56, processor["max_pixels"]!.GetValue<long>());
        var served = encoder.Preprocessor.Prepare(Probe()[2]).Images[0];
        var trainedWith = trainer.Preprocessor.Prepare(Probe()[2]).Images[0];
        Assert.Equal((trainedWith.GridH, trainedWith.GridW), (served.GridH, served.GridW));
        Assert.True(served.PatchCount <= 16, $"{served.PatchCount} patches: the budget of 56×56 pixels was not applied");
    }

    [Fact]
    public void Full_training_from_a_random_init_writes_a_loadable_model_folder()
    {
        using var temp = new TempFolder("outputs-full");
        var config = TrainingFixture.WriteConfig(temp.Combine("init"));
        var options = TrainingFixture.Options(temp.Combine("run"), initConfig: config) with { MaxSteps = 2 };
        using var trainer = ContrastiveTrainer.Create(options);
        var result = trainer.Train(Data());
        Assert.Null(result.AdapterFolder);
        var expected = Embed(trainer.Model, trainer.Preprocessor, Probe());

        using var encoder = TorchSharpVlm2VecEncoder.FromPretrained(result.ModelFolder!);
        AssertClose(expected, Embed(encoder.Model, encoder.Preprocessor, Probe()), 1e-6, "model folder vs trained");
        Assert.True(File.Exists(Path.Combine(result.ModelFolder!, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(temp.Combine("run"), "training_args.json")));
    }

    private static Tensor Embed(Qwen2VlForConditionalGeneration model, Vlm2VecPreprocessor preprocessor, IReadOnlyList<MultimodalInput> inputs)
    {
        var training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            return ChunkEncoder.Encode(model, preprocessor.Collator, [.. inputs.Select(preprocessor.Prepare)]);
        }
        finally
        {
            model.train(training);
        }
    }
}
