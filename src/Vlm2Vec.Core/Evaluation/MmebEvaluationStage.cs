namespace Vlm2Vec.Evaluation;

/// <summary>What an evaluation is doing when it reports progress.</summary>
public enum MmebEvaluationStage
{
    /// <summary>A dataset's unique queries and candidates are being embedded.</summary>
    Embedding,

    /// <summary>A dataset's rows are being scored.</summary>
    Scoring,

    /// <summary>A dataset is finished; <see cref="MmebEvaluationProgress.Score"/> holds its scores.</summary>
    DatasetCompleted,
}
