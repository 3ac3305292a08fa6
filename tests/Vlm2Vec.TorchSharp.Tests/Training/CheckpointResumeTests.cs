using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>Checkpoints are atomic, and a stopped run resumes on exactly the uninterrupted trajectory.</summary>
[Collection(TrainingCollection.Name)]
public sealed class CheckpointResumeTests : TorchTestBase, IClassFixture<BaseModelFixture>
{
    private readonly BaseModelFixture _base;

    public CheckpointResumeTests(BaseModelFixture fixture) => _base = fixture;

    /// <summary>DoRA with dropout (so the RNG state matters), shuffled data over more than one epoch, images and hard negatives.</summary>
    private ContrastiveTrainingOptions Options(string output) => TrainingFixture.Options(output, baseModel: _base.Folder) with
    {
        MaxSteps = 7,
        BatchSize = 6,
        SaveEverySteps = 2,
        HardNegatives = 1,
        Adapter = LoraConfig.Vlm2VecV2 with { LoraDropout = 0.3 },
    };

    private static List<ContrastiveExample> Data() => [.. TrainingFixture.TextPairs(10, negatives: 2), .. TrainingFixture.ImagePairs(2, 1)];

    [Fact]
    public void A_run_cancelled_after_step_3_and_resumed_ends_identical_to_an_uninterrupted_run()
    {
        using var temp = new TempFolder("resume");
        TrainingResult straight;
        using (var trainer = ContrastiveTrainer.Create(Options(temp.Combine("straight"))))
        {
            straight = trainer.Train(Data());
        }

        using var stop = new CancellationTokenSource();
        TrainingResult first;
        using (var trainer = ContrastiveTrainer.Create(Options(temp.Combine("resumed"))))
        {
            first = trainer.Train(Data(), new ActionProgress<TrainingProgress>(p =>
            {
                if (p is { Phase: TrainingPhase.Step, Step: 3 })
                {
                    stop.Cancel();
                }
            }), stop.Token);
        }

        Assert.True(first.Cancelled);
        Assert.False(first.Completed);
        Assert.Equal(3, first.Steps);
        Assert.EndsWith("step-0000003", first.LastCheckpoint, StringComparison.Ordinal);
        Assert.Null(first.AdapterFolder);

        TrainingResult second;
        using (var trainer = ContrastiveTrainer.Create(Options(temp.Combine("resumed"))))
        {
            second = trainer.Train(Data());
        }

        Assert.Equal(3, second.ResumedFromStep);
        Assert.True(second.Completed);
        Assert.Equal(straight.FinalLoss, second.FinalLoss);
        Assert.Equal(File.ReadAllText(temp.Combine("straight", "training_log.jsonl")), File.ReadAllText(temp.Combine("resumed", "training_log.jsonl")));
        Assert.Equal(
            File.ReadAllBytes(temp.Combine("straight", "adapter", "adapter_model.safetensors")),
            File.ReadAllBytes(temp.Combine("resumed", "adapter", "adapter_model.safetensors")));
        Assert.Equal(
            File.ReadAllBytes(temp.Combine("straight", "checkpoints", "step-0000007", "optimizer.bin")),
            File.ReadAllBytes(temp.Combine("resumed", "checkpoints", "step-0000007", "optimizer.bin")));
    }

    [Fact]
    public void A_half_written_checkpoint_is_never_resumed_and_its_leftovers_are_removed()
    {
        using var temp = new TempFolder("atomic");
        var output = temp.Combine("run");
        using (var trainer = ContrastiveTrainer.Create(Options(output) with { MaxSteps = 4 }))
        {
            using var stop = new CancellationTokenSource();
            trainer.Train(Data(), new ActionProgress<TrainingProgress>(p =>
            {
                if (p is { Phase: TrainingPhase.Step, Step: 2 })
                {
                    stop.Cancel();
                }
            }), stop.Token);
        }

        // What a kill in the middle of later writes leaves: a temporary folder, and a step folder missing a file
        // (impossible through the rename, but a copy by hand could do it).
        var checkpoints = Path.Combine(output, "checkpoints");
        var leftover = Directory.CreateDirectory(Path.Combine(checkpoints, ".tmp-step-0000003-0123456789abcdef")).FullName;
        File.WriteAllText(Path.Combine(leftover, "trainer_state.json"), "{ truncated");
        var partial = Directory.CreateDirectory(Path.Combine(checkpoints, "step-0000009")).FullName;
        File.Copy(Path.Combine(checkpoints, "step-0000002", "trainer_state.json"), Path.Combine(partial, "trainer_state.json"));

        Assert.EndsWith("step-0000002", TrainingCheckpoint.FindLatest(output), StringComparison.Ordinal);

        using (var trainer = ContrastiveTrainer.Create(Options(output) with { MaxSteps = 4 }))
        {
            var result = trainer.Train(Data());
            Assert.Equal(2, result.ResumedFromStep);
            Assert.True(result.Completed);
        }

        Assert.False(Directory.Exists(leftover));
    }

    [Fact]
    public void A_checkpoint_is_not_resumed_under_other_options_or_other_data_and_never_is_explicit()
    {
        using var temp = new TempFolder("mismatch");
        var output = temp.Combine("run");
        using (var trainer = ContrastiveTrainer.Create(Options(output) with { MaxSteps = 2 }))
        {
            trainer.Train(Data());
        }

        using (var trainer = ContrastiveTrainer.Create(Options(output) with { MaxSteps = 2, LearningRate = 0.5 }))
        {
            var error = Assert.Throws<ModelFormatException>(() => trainer.Train(Data()));
            Assert.Contains("other training options", error.Message, StringComparison.Ordinal);
        }

        using (var trainer = ContrastiveTrainer.Create(Options(output) with { MaxSteps = 2 }))
        {
            var error = Assert.Throws<ModelFormatException>(() => trainer.Train(Data().Skip(1)));
            Assert.Contains("other training data", error.Message, StringComparison.Ordinal);
        }

        using (var trainer = ContrastiveTrainer.Create(Options(output) with { MaxSteps = 2, Resume = ResumeBehavior.Never }))
        {
            var error = Assert.Throws<InvalidOperationException>(() => trainer.Train(Data()));
            Assert.Contains("already holds checkpoint", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_kept()
    {
        using var temp = new TempFolder("keep");
        var output = temp.Combine("run");
        using var trainer = ContrastiveTrainer.Create(Options(output) with { MaxSteps = 7, SaveEverySteps = 1, KeepCheckpoints = 2 });
        trainer.Train(Data());
        Assert.Equal(["step-0000006", "step-0000007"], Directory.GetDirectories(Path.Combine(output, "checkpoints")).Select(Path.GetFileName).Order());
    }
}
