namespace Vlm2Vec.Evaluation;

/// <summary>A progress report of <see cref="MmebEvaluator.EvaluateAsync"/>.</summary>
public sealed record MmebEvaluationProgress
{
    /// <summary>The stage.</summary>
    public required MmebEvaluationStage Stage { get; init; }

    /// <summary>The dataset being evaluated.</summary>
    public required string Dataset { get; init; }

    /// <summary>Its 0-based position among the datasets.</summary>
    public required int DatasetIndex { get; init; }

    /// <summary>How many datasets there are.</summary>
    public required int DatasetCount { get; init; }

    /// <summary>Unique inputs (queries + candidates) done so far, embedded or found in the cache.</summary>
    public required int Completed { get; init; }

    /// <summary>Unique inputs of the dataset.</summary>
    public required int Total { get; init; }

    /// <summary>Of <see cref="Completed"/>, how many came from the persistent cache.</summary>
    public int Cached { get; init; }

    /// <summary>The dataset's scores, on <see cref="MmebEvaluationStage.DatasetCompleted"/>.</summary>
    public MmebDatasetScore? Score { get; init; }
}
