namespace Vlm2Vec.Evaluation;

/// <summary>A scored row kept for the reports: the query, the positive, and what the model ranked first.</summary>
public sealed record MmebRowExample
{
    /// <summary>The 1-based line (JSONL) or row (parquet) in the data file.</summary>
    public required int LineNumber { get; init; }

    /// <summary>Whether the positive was ranked first (hit@1).</summary>
    public required bool Hit { get; init; }

    /// <summary>The positive's 1-based rank.</summary>
    public required int PositiveRank { get; init; }

    /// <summary>How many candidates the row has.</summary>
    public required int CandidateCount { get; init; }

    /// <summary>The query.</summary>
    public required MmebExampleInput Query { get; init; }

    /// <summary>The positive (candidate 0).</summary>
    public required MmebExampleInput Positive { get; init; }

    /// <summary>The positive's cosine score.</summary>
    public required float PositiveScore { get; init; }

    /// <summary>The index of the candidate ranked first (0 for a hit).</summary>
    public required int PredictedIndex { get; init; }

    /// <summary>The candidate ranked first.</summary>
    public required MmebExampleInput Predicted { get; init; }

    /// <summary>The first-ranked candidate's cosine score.</summary>
    public required float PredictedScore { get; init; }
}
