using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.TorchSharp.Tests.Training;

public sealed class TrainerSmokeTests : TorchTestBase
{
    [Fact]
    public void Lora_run_writes_checkpoints_log_and_adapter()
    {
        using var temp = new TempFolder("train-smoke");
        var baseModel = TrainingFixture.CreateBaseModel(temp.Combine("base"));
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: baseModel);
        using var trainer = ContrastiveTrainer.Create(options);
        var data = TrainingFixture.TextPairs(12).Concat(TrainingFixture.ImagePairs(2, 2)).ToList();
        var result = trainer.Train(data);
        Assert.True(result.Completed);
        Assert.Equal(4, result.Steps);
        Assert.NotNull(result.AdapterFolder);
        Assert.True(File.Exists(Path.Combine(result.AdapterFolder!, "adapter_model.safetensors")));
        Assert.Equal(4, File.ReadAllLines(temp.Combine("run", "training_log.jsonl")).Length);
    }
}
