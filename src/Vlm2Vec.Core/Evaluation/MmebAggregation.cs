namespace Vlm2Vec.Evaluation;

/// <summary>
/// MMEB V1 aggregation (spec §2.3): a meta-task score is the unweighted mean over its datasets; IND and OOD are means over
/// the in- and out-of-distribution datasets; Overall is the mean over all datasets (so it weights meta-tasks by their
/// dataset counts: 7B row (62.6·10 + 57.8·10 + 69.9·12 + 81.7·4) / 36 = 65.8). Only datasets present are averaged.
/// </summary>
public static class MmebAggregation
{
    private static readonly MmebMetaTask[] Order =
        [MmebMetaTask.Classification, MmebMetaTask.VisualQuestionAnswering, MmebMetaTask.Retrieval, MmebMetaTask.VisualGrounding];

    /// <summary>Aggregates dataset scores.</summary>
    /// <exception cref="ArgumentException">A dataset appears twice, or a score is not finite.</exception>
    public static MmebAggregateScores Compute(IEnumerable<MmebScoreEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var tasks = new Dictionary<MmebMetaTask, Accumulator>();
        Accumulator ind = default, ood = default, all = default;
        foreach (var entry in entries)
        {
            if (!seen.Add(entry.Dataset))
            {
                throw new ArgumentException($"Dataset '{entry.Dataset}' appears twice; each dataset counts once.", nameof(entries));
            }

            if (!double.IsFinite(entry.Score))
            {
                throw new ArgumentException($"Dataset '{entry.Dataset}' has the score {entry.Score}; scores must be finite.", nameof(entries));
            }

            all.Add(entry.Score);
            if (entry.MetaTask is { } task)
            {
                tasks.TryGetValue(task, out var accumulator);
                accumulator.Add(entry.Score);
                tasks[task] = accumulator;
            }

            if (entry.IsOutOfDistribution == true)
            {
                ood.Add(entry.Score);
            }
            else if (entry.IsOutOfDistribution == false)
            {
                ind.Add(entry.Score);
            }
        }

        var metaTasks = new Dictionary<MmebMetaTask, MmebAggregate>();
        foreach (var task in Order)
        {
            if (tasks.TryGetValue(task, out var accumulator))
            {
                metaTasks[task] = accumulator.Result!.Value;
            }
        }

        return new MmebAggregateScores
        {
            MetaTasks = metaTasks,
            InDistribution = ind.Result,
            OutOfDistribution = ood.Result,
            Overall = all.Result,
        };
    }

    /// <summary>Aggregates the hit@1 scores of an evaluation's datasets.</summary>
    public static MmebAggregateScores Compute(IEnumerable<MmebDatasetScore> datasets) => Compute(datasets, d => d.HitAt1);

    /// <summary>Aggregates one metric of an evaluation's datasets (datasets where it is null are left out).</summary>
    public static MmebAggregateScores Compute(IEnumerable<MmebDatasetScore> datasets, Func<MmebDatasetScore, double?> metric)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        ArgumentNullException.ThrowIfNull(metric);
        var entries = new List<MmebScoreEntry>();
        foreach (var dataset in datasets)
        {
            if (metric(dataset) is { } value)
            {
                entries.Add(new MmebScoreEntry(dataset.Name, dataset.MetaTask, dataset.IsOutOfDistribution, value));
            }
        }

        return Compute(entries);
    }

    /// <summary>The short label of a meta-task as MMEB tables print it (CLS, VQA, RET, GD).</summary>
    public static string Label(MmebMetaTask task) => task switch
    {
        MmebMetaTask.Classification => "CLS",
        MmebMetaTask.VisualQuestionAnswering => "VQA",
        MmebMetaTask.Retrieval => "RET",
        MmebMetaTask.VisualGrounding => "GD",
        _ => task.ToString(),
    };

    private struct Accumulator
    {
        private double _sum;
        private int _count;

        public void Add(double value)
        {
            _sum += value;
            _count++;
        }

        public readonly MmebAggregate? Result => _count == 0 ? null : new MmebAggregate(_sum / _count, _count);
    }
}
