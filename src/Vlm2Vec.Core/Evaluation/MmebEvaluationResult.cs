namespace Vlm2Vec.Evaluation;

/// <summary>What an MMEB evaluation produced: the model, the settings, each dataset's scores, the aggregates and timings.</summary>
public sealed record MmebEvaluationResult
{
    /// <summary>The model evaluated.</summary>
    public required Vlm2VecModelInfo Model { get; init; }

    /// <summary>The settings.</summary>
    public required MmebEvaluationSettings Settings { get; init; }

    /// <summary>Per-dataset scores, in evaluation order.</summary>
    public required IReadOnlyList<MmebDatasetScore> Datasets { get; init; }

    /// <summary>Hit@1 aggregates over the datasets present (spec §2.3).</summary>
    public required MmebAggregateScores Aggregates { get; init; }

    /// <summary>NDCG@5 aggregates, when NDCG was computed.</summary>
    public MmebAggregateScores? NdcgAggregates { get; init; }

    /// <summary>When the evaluation started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; init; }
}
