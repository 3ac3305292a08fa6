using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;
using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>Which parameters a run updates: adapters only (LoRA/DoRA, vision frozen), or everything (full).</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainerParameterTests : TorchTestBase, IClassFixture<BaseModelFixture>
{
    private readonly BaseModelFixture _base;

    public TrainerParameterTests(BaseModelFixture fixture) => _base = fixture;

    private static List<ContrastiveExample> Data() => [.. TrainingFixture.TextPairs(6), .. TrainingFixture.ImagePairs(2, 1)];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Adapter_modes_change_only_adapter_parameters_and_never_the_vision_tower(bool dora)
    {
        using var temp = new TempFolder("train-lora");
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: _base.Folder) with
        {
            Adapter = LoraConfig.Vlm2VecV2 with { UseDora = dora },

            // B starts at zero, so A has no gradient until B has moved once: three full-rate steps move every adapter tensor.
            MaxSteps = 3,
            WarmupSteps = 0,
        };
        using var trainer = ContrastiveTrainer.Create(options);
        Assert.All(trainer.TrainableParameterNames, name => Assert.True(LoraInjector.IsAdapterParameter(name), name));
        Assert.Equal(dora, trainer.TrainableParameterNames.Any(n => n.EndsWith("lora_magnitude_vector", StringComparison.Ordinal)));
        Assert.DoesNotContain(trainer.TrainableParameterNames, n => n.StartsWith("visual.", StringComparison.Ordinal));
        Assert.Contains("model.layers.0.mlp.gate_proj.lora_A.weight", trainer.TrainableParameterNames);
        var before = TrainingFixture.Snapshot(trainer.Model);

        var result = trainer.Train(Data());

        Assert.True(result.Completed);
        var after = TrainingFixture.Snapshot(trainer.Model);
        var changedAdapters = 0;
        foreach (var (name, old) in before)
        {
            var same = old.equal(after[name]).all().item<bool>();
            if (LoraInjector.IsAdapterParameter(name))
            {
                changedAdapters += same ? 0 : 1;
            }
            else
            {
                Assert.True(same, $"{name} is not an adapter parameter but changed");
            }
        }

        Assert.Equal(trainer.TrainableParameterNames.Count, changedAdapters);
    }

    [Fact]
    public void Full_mode_changes_every_parameter_including_the_vision_tower()
    {
        using var temp = new TempFolder("train-full");
        var config = TrainingFixture.WriteConfig(temp.Combine("init"));
        var options = TrainingFixture.Options(temp.Combine("run"), initConfig: config) with { MaxSteps = 2 };
        using var trainer = ContrastiveTrainer.Create(options);
        var before = TrainingFixture.Snapshot(trainer.Model);
        Assert.Equal(before.Count, trainer.TrainableParameterNames.Count);

        trainer.Train(Data());

        foreach (var (name, old) in TrainingFixture.Snapshot(trainer.Model))
        {
            Assert.False(old.equal(before[name]).all().item<bool>(), $"{name} did not change");
        }
    }

    [Fact]
    public void Full_mode_can_keep_the_vision_tower_and_named_prefixes_frozen()
    {
        using var temp = new TempFolder("train-full-frozen");
        var config = TrainingFixture.WriteConfig(temp.Combine("init"));
        var options = TrainingFixture.Options(temp.Combine("run"), initConfig: config) with
        {
            MaxSteps = 2,
            TrainVisionTower = false,
            FrozenParameterPrefixes = ["model.embed_tokens"],
        };
        using var trainer = ContrastiveTrainer.Create(options);
        var before = TrainingFixture.Snapshot(trainer.Model);

        trainer.Train(Data());

        foreach (var (name, now) in TrainingFixture.Snapshot(trainer.Model))
        {
            var frozen = name.StartsWith("visual.", StringComparison.Ordinal) || name.StartsWith("model.embed_tokens", StringComparison.Ordinal);
            Assert.True(frozen == now.equal(before[name]).all().item<bool>(), $"{name}: frozen {frozen}");
        }
    }

    [Fact]
    public void The_log_records_the_scheduled_learning_rate_and_a_loss_per_step()
    {
        using var temp = new TempFolder("train-log");
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: _base.Folder) with { MaxSteps = 5, WarmupSteps = 2, LearningRate = 0.01 };
        using var trainer = ContrastiveTrainer.Create(options);
        trainer.Train(Data());
        var lines = File.ReadAllLines(temp.Combine("run", "training_log.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, lines.Count);
        double[] expected = [0, 0.005, 0.01, 0.01 * 2 / 3, 0.01 / 3];
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(i + 1, lines[i].GetProperty("step").GetInt32());
            Assert.Equal(expected[i], lines[i].GetProperty("lr").GetDouble(), 12);
            Assert.True(lines[i].GetProperty("loss").GetDouble() > 0);
            Assert.Equal(8, lines[i].GetProperty("queries").GetInt32());
        }
    }

    [Fact]
    public void Inconsistent_options_are_refused_before_anything_is_loaded()
    {
        var error = Assert.Throws<ArgumentException>(() => ContrastiveTrainer.Create(new ContrastiveTrainingOptions { OutputFolder = "x" }));
        Assert.Contains("exactly one of BaseModelFolder", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => ContrastiveTrainer.Create(new ContrastiveTrainingOptions { OutputFolder = "x", InitConfigPath = "c.json", TokenizerFolder = "t" }));
        Assert.Contains("LoRA needs a pretrained base", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => ContrastiveTrainer.Create(new ContrastiveTrainingOptions { OutputFolder = "x", BaseModelFolder = "b", TrainVisionTower = true }));
        Assert.Contains("Full mode to train the vision tower", error.Message, StringComparison.Ordinal);
    }
}
