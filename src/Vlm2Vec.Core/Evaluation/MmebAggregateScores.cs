namespace Vlm2Vec.Evaluation;

/// <summary>
/// The MMEB V1 aggregates (spec §2.3) over the datasets present: per meta-task means, the in-distribution and
/// out-of-distribution means, and the overall mean over every dataset. A mean is absent when no dataset contributes.
/// </summary>
public sealed record MmebAggregateScores
{
    /// <summary>Meta-task means, for the meta-tasks that have at least one dataset, in MMEB order (CLS, VQA, RET, GD).</summary>
    public required IReadOnlyDictionary<MmebMetaTask, MmebAggregate> MetaTasks { get; init; }

    /// <summary>The mean over in-distribution datasets, or null when there are none.</summary>
    public MmebAggregate? InDistribution { get; init; }

    /// <summary>The mean over out-of-distribution datasets, or null when there are none.</summary>
    public MmebAggregate? OutOfDistribution { get; init; }

    /// <summary>The mean over every dataset, or null when there are none.</summary>
    public MmebAggregate? Overall { get; init; }
}
