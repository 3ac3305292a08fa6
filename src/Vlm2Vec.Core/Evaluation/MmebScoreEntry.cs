namespace Vlm2Vec.Evaluation;

/// <summary>One dataset's score as <see cref="MmebAggregation"/> sees it.</summary>
/// <param name="Dataset">The dataset name.</param>
/// <param name="MetaTask">Its meta-task, or null (then it counts in the overall mean only).</param>
/// <param name="IsOutOfDistribution">OOD (true), IND (false), or neither (null).</param>
/// <param name="Score">The score (percent in MMEB reports).</param>
public readonly record struct MmebScoreEntry(string Dataset, MmebMetaTask? MetaTask, bool? IsOutOfDistribution, double Score);
