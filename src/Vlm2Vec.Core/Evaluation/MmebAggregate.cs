namespace Vlm2Vec.Evaluation;

/// <summary>An unweighted mean over datasets and how many datasets it covers.</summary>
/// <param name="Mean">The mean score (same unit as the dataset scores: percent in MMEB reports).</param>
/// <param name="DatasetCount">How many datasets were averaged.</param>
public readonly record struct MmebAggregate(double Mean, int DatasetCount);
