using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;
using static TorchSharp.torch;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>GradCache (spec §1.7) gives the gradients of the full batch.</summary>
[Collection(TrainingCollection.Name)]
public sealed class GradCacheTests : TorchTestBase
{
    // One intra-op thread: much faster for these tiny ops on a busy machine (the training tests run alone anyway).
    public GradCacheTests() => set_num_threads(1);

    [Fact]
    public void Dropout_off_chunk_4_gradients_equal_the_plain_full_batch_gradients_for_32_pairs()
    {
        using var model = T.Create(seed: 11);
        model.train();
        var collator = TinyTrainingData.Collator(model.Config);
        var batch = TinyTrainingData.Batch(32);
        var runner = new ContrastiveStepRunner(model, collator, 0.02, symmetric: false);

        var plainLoss = runner.Run(batch, null, null);
        var plain = Gradients(model);
        ZeroGradients(model);
        var cachedLoss = runner.Run(batch, 4, 4);
        var cached = Gradients(model);

        Assert.Equal(plainLoss, cachedLoss, 4);
        Assert.True(plainLoss > 0.1, $"loss {plainLoss} is suspiciously small");
        AssertSameGradients(plain, cached, 1e-4);
    }

    [Fact]
    public void Hard_negatives_and_the_symmetric_loss_keep_the_equivalence_with_separate_query_and_target_chunks()
    {
        using var model = T.Create(seed: 12);
        model.train();
        var collator = TinyTrainingData.Collator(model.Config);
        var batch = TinyTrainingData.Batch(10, negatives: 2, seed: 5);
        var runner = new ContrastiveStepRunner(model, collator, 0.05, symmetric: true);

        var plainLoss = runner.Run(batch, null, null);
        var plain = Gradients(model);
        ZeroGradients(model);
        var cachedLoss = runner.Run(batch, 3, 7);
        var cached = Gradients(model);

        Assert.Equal(plainLoss, cachedLoss, 4);
        AssertSameGradients(plain, cached, 1e-4);
    }

    [Fact]
    public void With_a_frozen_vision_tower_the_second_pass_reuses_the_image_features_and_the_gradients_stay_exact()
    {
        using var model = T.Create(seed: 14);
        LoraInjector.Inject(model, LoraConfig.Vlm2VecV2 with { LoraDropout = 0, InitLoraWeights = "false" }, new LoraInjectOptions { Seed = 4 });
        LoraInjector.FreezeAllButAdapters(model);
        model.train();
        Assert.DoesNotContain(model.named_parameters(), p => p.parameter.requires_grad && p.name.StartsWith("visual.", StringComparison.Ordinal));
        var collator = TinyTrainingData.Collator(model.Config);
        var batch = TinyTrainingData.Batch(16, seed: 6);
        Assert.Contains(batch.Queries.Concat(batch.Targets), row => row.Get().Images.Count > 0);

        var plainLoss = new ContrastiveStepRunner(model, collator, 0.02, symmetric: true).Run(batch, null, null);
        var plain = Gradients(model);
        ZeroGradients(model);
        var recomputedLoss = new ContrastiveStepRunner(model, collator, 0.02, symmetric: true) { ReuseFrozenVisionFeatures = false }.Run(batch, 4, 4);
        var recomputed = Gradients(model);
        ZeroGradients(model);
        Assert.True(new ContrastiveStepRunner(model, collator, 0.02, symmetric: true).ReuseFrozenVisionFeatures, "reuse is the default");
        var reusing = new ContrastiveStepRunner(model, collator, 0.02, symmetric: true) { ReuseFrozenVisionFeatures = true };
        var reusedLoss = reusing.Run(batch, 4, 4);
        var reused = Gradients(model);
        var (reusedChunks, reusedBytes) = reusing.LastStepReusedFeatures;
        Assert.True(reusedChunks >= 2, $"{reusedChunks} chunk(s) reused their features");

        // A cap that holds only some chunks' features: those reuse, the others run the tower again.
        ZeroGradients(model);
        var partly = new ContrastiveStepRunner(model, collator, 0.02, symmetric: true) { ReuseFrozenVisionFeatures = true, MaxReusedVisionFeatureBytes = reusedBytes - 1 };
        var partlyLoss = partly.Run(batch, 4, 4);
        var partlyReused = Gradients(model);
        Assert.InRange(partly.LastStepReusedFeatures.Chunks, 1, reusedChunks - 1);

        ZeroGradients(model);
        var overBudgetRunner = new ContrastiveStepRunner(model, collator, 0.02, symmetric: true) { ReuseFrozenVisionFeatures = true, MaxReusedVisionFeatureBytes = 1 };
        var overBudgetLoss = overBudgetRunner.Run(batch, 4, 4);
        var overBudget = Gradients(model);
        Assert.Equal((0, 0L), overBudgetRunner.LastStepReusedFeatures);
        Assert.Equal(recomputedLoss, partlyLoss, 6);
        AssertSameGradients(recomputed, partlyReused, 1e-6);

        Assert.Equal(recomputedLoss, reusedLoss, 6);
        Assert.Equal(recomputedLoss, overBudgetLoss, 6);
        Assert.Equal(plainLoss, reusedLoss, 4);
        AssertSameGradients(recomputed, reused, 1e-6);
        AssertSameGradients(recomputed, overBudget, 1e-6);
        AssertSameGradients(plain, reused, 1e-4);
    }

    [Theory]
    [InlineData(8, 8)] // one chunk per side: both kept, nothing re-forwarded (the plain path's work)
    [InlineData(3, 5)] // several chunks per side: the last of each kept, the others re-forwarded
    public void Keeping_the_last_chunk_graphs_gives_the_re_forward_gradients_with_dropout_on_and_leaves_the_rng_where_it_would(int queryChunk, int targetChunk)
    {
        using var model = T.Create(seed: 15);
        LoraInjector.Inject(model, LoraConfig.Vlm2VecV2 with { LoraDropout = 0.3, InitLoraWeights = "false" }, new LoraInjectOptions { Seed = 5 });
        LoraInjector.FreezeAllButAdapters(model);
        model.train();
        var collator = TinyTrainingData.Collator(model.Config);
        var batch = TinyTrainingData.Batch(8, seed: 10);

        manual_seed(91);
        var strictLoss = new ContrastiveStepRunner(model, collator, 0.02, symmetric: true) { KeepLastChunkGraphs = false, ReuseFrozenVisionFeatures = false }.Run(batch, queryChunk, targetChunk);
        var strict = Gradients(model);
        var strictNext = rand(4).data<float>().ToArray();
        ZeroGradients(model);

        manual_seed(91);
        var keptLoss = new ContrastiveStepRunner(model, collator, 0.02, symmetric: true).Run(batch, queryChunk, targetChunk);
        var kept = Gradients(model);
        var keptNext = rand(4).data<float>().ToArray();

        // The first pass runs without autograd, where DoRA folds its products differently (LoraMathTests): float rounding.
        Assert.Equal(strictLoss, keptLoss, 1e-6 * Math.Abs(strictLoss));
        AssertSameGradients(strict, kept, 1e-5);
        Assert.Equal(strictNext, keptNext);

        // Dropout really draws: another seed gives other gradients.
        ZeroGradients(model);
        manual_seed(92);
        new ContrastiveStepRunner(model, collator, 0.02, symmetric: true).Run(batch, queryChunk, targetChunk);
        var other = Gradients(model);
        Assert.True(strict.Keys.Max(k => RelativeDifference(strict[k], other[k])) > 1e-2, "dropout made no difference");
    }

    [Fact]
    public void Dropout_on_the_re_forward_reuses_the_first_forwards_masks()
    {
        using var model = T.Create(seed: 13);
        LoraInjector.Inject(model, LoraConfig.Vlm2VecV2 with { LoraDropout = 0.5, InitLoraWeights = "false" }, new LoraInjectOptions { Seed = 3 });
        LoraInjector.FreezeAllButAdapters(model);
        model.train();
        var collator = TinyTrainingData.Collator(model.Config);
        var batch = TinyTrainingData.Batch(12, seed: 9);
        var runner = new ContrastiveStepRunner(model, collator, 0.02, symmetric: false);

        // The reference: the same chunks forwarded with graph in the same order from the same RNG state (so the same
        // masks as GradCache's first pass), one loss, one backward.
        manual_seed(77);
        double referenceLoss;
        using (var scope = NewDisposeScope())
        {
            var q = cat([.. Chunks(batch.Queries, 4).Select(c => ChunkEncoder.Encode(model, collator, c))], 0);
            var t = cat([.. Chunks(batch.Targets, 4).Select(c => ChunkEncoder.Encode(model, collator, c))], 0);
            var loss = ContrastiveLoss.Compute(q, t, batch.Positives, 0.02);
            loss.backward();
            referenceLoss = loss.item<float>();
        }

        var reference = Gradients(model);
        ZeroGradients(model);

        manual_seed(77);
        var cachedLoss = runner.Run(batch, 4, 4);
        var cached = Gradients(model);
        Assert.Equal(referenceLoss, cachedLoss, 4);
        AssertSameGradients(reference, cached, 1e-4);

        // Without restoring the RNG state the re-forward draws other masks and the gradients are wrong: the restore is
        // what makes them equal (and dropout really is on).
        ZeroGradients(model);
        manual_seed(77);
        new ContrastiveStepRunner(model, collator, 0.02, symmetric: false) { RestoreRngState = false }.Run(batch, 4, 4);
        var unrestored = Gradients(model);
        var worst = reference.Keys.Max(k => RelativeDifference(reference[k], unrestored[k]));
        Assert.True(worst > 1e-2, $"gradients without RNG restore differ by only {worst}");
    }

    internal static Dictionary<string, Tensor> Gradients(nn.Module model)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (parameter.requires_grad && parameter.grad is { } grad)
            {
                result[name] = grad.detach().clone();
            }
        }

        Assert.NotEmpty(result);
        return result;
    }

    internal static void ZeroGradients(nn.Module model)
    {
        foreach (var parameter in model.parameters())
        {
            parameter.grad?.zero_();
        }
    }

    internal static double RelativeDifference(Tensor expected, Tensor actual)
    {
        var scale = Math.Max(expected.abs().max().item<float>(), 1e-12);
        return expected.sub(actual).abs().max().item<float>() / scale;
    }

    internal static void AssertSameGradients(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual, double relative)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        var nonZero = 0;
        foreach (var (name, e) in expected)
        {
            if (e.abs().max().item<float>() == 0)
            {
                continue;
            }

            nonZero++;
            var difference = RelativeDifference(e, actual[name]);
            Assert.True(difference <= relative, $"{name}: relative difference {difference:E2} > {relative:E0}");
        }

        Assert.True(nonZero > expected.Count / 2, $"only {nonZero} of {expected.Count} gradients are non-zero");
    }

    private static IEnumerable<IReadOnlyList<Vlm2Vec.Preprocessing.PreparedInput>> Chunks(IReadOnlyList<BatchInput> rows, int size)
    {
        for (var start = 0; start < rows.Count; start += size)
        {
            yield return BatchInput.Materialise(rows, start, Math.Min(size, rows.Count - start));
        }
    }
}
