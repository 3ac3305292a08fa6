using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;
using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>Learning-rate schedule, gradient clipping and the data order.</summary>
[Collection(TrainingCollection.Name)]
public sealed class ScheduleAndSamplingTests : TorchTestBase
{
    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(5, 0.5)]
    [InlineData(10, 1.0)]
    [InlineData(55, 0.5)]
    [InlineData(99, 1.0 / 90)]
    [InlineData(100, 0.0)]
    public void Linear_warmup_then_linear_decay_like_hugging_face(int step, double factor) =>
        Assert.Equal(factor, LinearWarmupSchedule.Factor(step, warmupSteps: 10, totalSteps: 100), 12);

    [Fact]
    public void Without_warmup_the_first_step_uses_the_full_rate_and_warmup_ratio_rounds_up()
    {
        Assert.Equal(1.0, LinearWarmupSchedule.Factor(0, 0, 20));
        Assert.Equal(0.5, LinearWarmupSchedule.Factor(10, 0, 20));
        var options = new ContrastiveTrainingOptions { OutputFolder = "x" };
        Assert.Equal(100, LinearWarmupSchedule.WarmupStepsFor(options, 2000));
        Assert.Equal(2, LinearWarmupSchedule.WarmupStepsFor(options, 30));
        Assert.Equal(7, LinearWarmupSchedule.WarmupStepsFor(options with { WarmupSteps = 7 }, 30));
    }

    [Fact]
    public void Clipping_scales_the_gradients_to_the_maximum_norm_and_reports_the_norm_before()
    {
        using var a = new global::TorchSharp.Modules.Parameter(zeros(2));
        using var b = new global::TorchSharp.Modules.Parameter(zeros(1));
        a.grad = tensor(new float[] { 3, 0 });
        b.grad = tensor(new float[] { 4 });

        Assert.Equal(5.0, GradientClipping.ClipAndMeasure([a, b], null), 6);
        Assert.Equal(3f, a.grad!.data<float>()[0]);

        Assert.Equal(5.0, GradientClipping.ClipAndMeasure([a, b], 1.0), 5);
        Assert.Equal(0.6f, a.grad!.data<float>()[0], 4);
        Assert.Equal(0.8f, b.grad!.data<float>()[0], 4);
        Assert.Equal(1.0, GradientClipping.ClipAndMeasure([a, b], null), 4);

        // Below the maximum nothing changes.
        Assert.Equal(1.0, GradientClipping.ClipAndMeasure([a, b], 10.0), 4);
        Assert.Equal(0.6f, a.grad!.data<float>()[0], 4);
    }

    [Fact]
    public void Every_epoch_visits_each_row_once_in_a_seeded_order_that_changes_per_epoch()
    {
        var datasets = Enumerable.Range(0, 23).Select(_ => (string?)null).ToList();
        var sampler = new EpochBatchSampler(datasets, batchSize: 5, shuffle: true, homogeneous: false, seed: 9);
        Assert.Equal(5, sampler.BatchesPerEpoch);
        var epoch0 = Enumerable.Range(0, 5).SelectMany(b => sampler.Batch(0, b)).ToList();
        var epoch1 = Enumerable.Range(0, 5).SelectMany(b => sampler.Batch(1, b)).ToList();
        Assert.Equal(Enumerable.Range(0, 23), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 23), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        Assert.NotEqual(Enumerable.Range(0, 23), epoch0);
        Assert.Equal(3, sampler.Batch(0, 4).Length);

        // A new sampler with the same seed (a resumed run) rebuilds any epoch without replaying the others.
        var again = new EpochBatchSampler(datasets, 5, true, false, 9);
        Assert.Equal(sampler.Batch(1, 2), again.Batch(1, 2));
        Assert.NotEqual(sampler.Batch(0, 0), new EpochBatchSampler(datasets, 5, true, false, 10).Batch(0, 0));
        Assert.Equal(Enumerable.Range(0, 5), new EpochBatchSampler(datasets, 5, false, false, 9).Batch(3, 0));
    }

    [Fact]
    public void Homogeneous_batches_come_from_one_dataset_each()
    {
        var datasets = Enumerable.Range(0, 30).Select(i => (string?)(i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c")).ToList();
        var sampler = new EpochBatchSampler(datasets, batchSize: 4, shuffle: true, homogeneous: true, seed: 1);
        Assert.Equal(3 * 3, sampler.BatchesPerEpoch); // 10 rows per dataset → batches of 4, 4, 2
        var seen = new List<int>();
        var sources = new List<string>();
        for (var b = 0; b < sampler.BatchesPerEpoch; b++)
        {
            var batch = sampler.Batch(0, b);
            Assert.Single(batch.Select(i => datasets[i]).Distinct());
            sources.Add(datasets[batch[0]]!);
            seen.AddRange(batch);
        }

        Assert.Equal(Enumerable.Range(0, 30), seen.Order());
        Assert.NotEqual(["a", "a", "a", "b", "b", "b", "c", "c", "c"], sources); // the batch order is shuffled
    }
}
