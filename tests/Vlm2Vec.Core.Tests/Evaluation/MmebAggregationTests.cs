using Vlm2Vec.Evaluation;

namespace Vlm2Vec.Core.Tests.Evaluation;

public sealed class MmebAggregationTests
{
    // Spec §2.5(b), column V1-Qwen2VL-7B, in MMEB table order (the catalog's order).
    private static readonly double[] Qwen2Vl7B =
    [
        80.2, 79.5, 70.3, 80.6, 77.3, 37.2, 57.6, 74.2, 40.5, 30.2,
        56.8, 47.5, 88.8, 59.0, 56.6, 52.7, 38.2, 39.6, 54.4, 71.6,
        81.6, 51.4, 80.3, 81.2, 77.5, 73.6, 67.5, 88.3, 16.8, 62.1, 66.6, 85.9,
        75.4, 87.1, 84.4, 80.7,
    ];

    private static IEnumerable<MmebScoreEntry> Catalog(Func<int, MmebDataset, double> score) =>
        MmebCatalog.All.Select((d, i) => new MmebScoreEntry(d.Name, d.MetaTask, d.IsOutOfDistribution, score(i, d)));

    [Fact]
    public void The_7B_per_dataset_scores_give_the_spec_averages()
    {
        var aggregates = MmebAggregation.Compute(Catalog((i, _) => Qwen2Vl7B[i]));

        // Spec §2.5(b) bottom rows, column V1-Qwen2VL-7B: CLS 62.8, VQA 56.5, RET 69.4, GD 81.9, IND 71.3, OOD 57.9, Overall 65.4.
        Assert.Equal(62.8, Math.Round(aggregates.MetaTasks[MmebMetaTask.Classification].Mean, 1));
        Assert.Equal(56.5, Math.Round(aggregates.MetaTasks[MmebMetaTask.VisualQuestionAnswering].Mean, 1));
        Assert.Equal(69.4, Math.Round(aggregates.MetaTasks[MmebMetaTask.Retrieval].Mean, 1));
        Assert.Equal(81.9, Math.Round(aggregates.MetaTasks[MmebMetaTask.VisualGrounding].Mean, 1));
        Assert.Equal(71.3, Math.Round(aggregates.InDistribution!.Value.Mean, 1));
        Assert.Equal(57.9, Math.Round(aggregates.OutOfDistribution!.Value.Mean, 1));
        Assert.Equal(65.4, Math.Round(aggregates.Overall!.Value.Mean, 1));
        Assert.Equal([10, 10, 12, 4], aggregates.MetaTasks.Values.Select(a => a.DatasetCount));
        Assert.Equal(20, aggregates.InDistribution.Value.DatasetCount);
        Assert.Equal(16, aggregates.OutOfDistribution.Value.DatasetCount);
        Assert.Equal(36, aggregates.Overall.Value.DatasetCount);
    }

    [Fact]
    public void Overall_weights_meta_tasks_by_their_dataset_counts_as_in_the_paper_7B_row()
    {
        // Paper Table 2, 7B row: CLS 62.6, VQA 57.8, RET 69.9, GD 81.7 → Overall 65.8 (a mean over datasets, not over meta-tasks).
        var byTask = new Dictionary<MmebMetaTask, double>
        {
            [MmebMetaTask.Classification] = 62.6,
            [MmebMetaTask.VisualQuestionAnswering] = 57.8,
            [MmebMetaTask.Retrieval] = 69.9,
            [MmebMetaTask.VisualGrounding] = 81.7,
        };
        var aggregates = MmebAggregation.Compute(Catalog((_, d) => byTask[d.MetaTask]));

        Assert.Equal(65.8, Math.Round(aggregates.Overall!.Value.Mean, 1));
        Assert.NotEqual(65.8, Math.Round(byTask.Values.Average(), 1)); // 68.0: the mean of meta-task means is not the protocol
        Assert.Equal(62.6, aggregates.MetaTasks[MmebMetaTask.Classification].Mean, 10);
    }

    [Fact]
    public void Only_datasets_present_are_averaged()
    {
        var aggregates = MmebAggregation.Compute(
        [
            new MmebScoreEntry("ImageNet-1K", MmebMetaTask.Classification, false, 80),
            new MmebScoreEntry("Place365", MmebMetaTask.Classification, true, 40),
            new MmebScoreEntry("MSCOCO_i2t", MmebMetaTask.Retrieval, false, 70),
        ]);

        Assert.Equal(2, aggregates.MetaTasks.Count);
        Assert.Equal(60, aggregates.MetaTasks[MmebMetaTask.Classification].Mean, 10);
        Assert.Equal(70, aggregates.MetaTasks[MmebMetaTask.Retrieval].Mean, 10);
        Assert.False(aggregates.MetaTasks.ContainsKey(MmebMetaTask.VisualGrounding));
        Assert.Equal(new MmebAggregate(75, 2), aggregates.InDistribution);
        Assert.Equal(new MmebAggregate(40, 1), aggregates.OutOfDistribution);
        Assert.Equal(new MmebAggregate(190 / 3.0, 3), aggregates.Overall);
    }

    [Fact]
    public void Datasets_outside_the_catalog_count_in_their_meta_task_and_overall_but_not_in_ind_or_ood()
    {
        var aggregates = MmebAggregation.Compute(
        [
            new MmebScoreEntry("coco-mini_i2t", MmebMetaTask.Retrieval, null, 50),
            new MmebScoreEntry("mystery", null, null, 10),
            new MmebScoreEntry("MSCOCO_t2i", MmebMetaTask.Retrieval, false, 90),
        ]);

        Assert.Equal(new MmebAggregate(70, 2), aggregates.MetaTasks[MmebMetaTask.Retrieval]);
        Assert.Equal(new MmebAggregate(90, 1), aggregates.InDistribution);
        Assert.Null(aggregates.OutOfDistribution);
        Assert.Equal(new MmebAggregate(50, 3), aggregates.Overall);
    }

    [Fact]
    public void No_datasets_give_no_means_and_a_repeated_dataset_is_refused()
    {
        var empty = MmebAggregation.Compute(Array.Empty<MmebScoreEntry>());
        Assert.Empty(empty.MetaTasks);
        Assert.Null(empty.Overall);

        var error = Assert.Throws<ArgumentException>(() => MmebAggregation.Compute(
            [new MmebScoreEntry("GQA", MmebMetaTask.VisualQuestionAnswering, true, 1), new MmebScoreEntry("gqa", MmebMetaTask.VisualQuestionAnswering, true, 2)]));
        Assert.Contains("gqa", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MmebAggregation.Compute([new MmebScoreEntry("GQA", null, null, double.NaN)]));
    }
}
