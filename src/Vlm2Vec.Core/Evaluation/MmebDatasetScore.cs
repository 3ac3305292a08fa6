namespace Vlm2Vec.Evaluation;

/// <summary>
/// One dataset's evaluation: the scores (in percent, 0–100, as MMEB reports them), how many rows they stand on, what was
/// embedded, how long it took, and a few example hits and misses for the reports.
/// </summary>
public sealed record MmebDatasetScore
{
    /// <summary>The dataset name.</summary>
    public required string Name { get; init; }

    /// <summary>The MMEB catalog entry, when the dataset is one of the 36.</summary>
    public MmebDataset? Catalog { get; init; }

    /// <summary>The meta-task it is averaged into, or null.</summary>
    public MmebMetaTask? MetaTask { get; init; }

    /// <summary>OOD (true), IND (false), or neither (null).</summary>
    public bool? IsOutOfDistribution { get; init; }

    /// <summary>Rows evaluated (loaded, after any row limit).</summary>
    public required int Rows { get; init; }

    /// <summary>Rows scored: <see cref="Rows"/> less <see cref="FailedRows"/>. Every score is a mean over these.</summary>
    public required int ScoredRows { get; init; }

    /// <summary>Rows left out because their query or a candidate could not be embedded (with <see cref="InvalidDataHandling.Skip"/>).</summary>
    public int FailedRows { get; init; }

    /// <summary>Malformed rows left out when loading (with <see cref="InvalidDataHandling.Skip"/>).</summary>
    public int SkippedRows { get; init; }

    /// <summary>Hit@1 = accuracy = precision@1, in percent: the headline MMEB metric.</summary>
    public required double HitAt1 { get; init; }

    /// <summary>Recall@5 (= hit@5 with one positive), in percent.</summary>
    public required double RecallAt5 { get; init; }

    /// <summary>Mean reciprocal rank of the positive (no cut-off), in percent.</summary>
    public required double Mrr { get; init; }

    /// <summary>NDCG@5 with linear gain, in percent; null unless asked for (<see cref="MmebEvaluationOptions.ComputeNdcg"/>).</summary>
    public double? NdcgAt5 { get; init; }

    /// <summary>Unique (text, image) queries, each embedded once.</summary>
    public int UniqueQueries { get; init; }

    /// <summary>Unique (text, image) candidates over the whole dataset, each embedded once.</summary>
    public int UniqueCandidates { get; init; }

    /// <summary>Candidate slots over all rows (the sum of the list lengths), what embedding without de-duplication would cost.</summary>
    public long CandidateSlots { get; init; }

    /// <summary>Inputs the model embedded in this run.</summary>
    public int EmbeddedInputs { get; init; }

    /// <summary>Inputs taken from the persistent embedding cache.</summary>
    public int CachedInputs { get; init; }

    /// <summary>Time spent embedding (preprocessing included).</summary>
    public TimeSpan EmbeddingTime { get; init; }

    /// <summary>Time spent scoring.</summary>
    public TimeSpan ScoringTime { get; init; }

    /// <summary>The folder the rows' image paths were resolved against.</summary>
    public string? ImageRoot { get; init; }

    /// <summary>The data files.</summary>
    public IReadOnlyList<string> SourcePaths { get; init; } = [];

    /// <summary>A few scored rows, hits and misses spread over the dataset, for the reports.</summary>
    public IReadOnlyList<MmebRowExample> Examples { get; init; } = [];

    /// <summary>Why rows failed or were skipped: the first few messages.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}
