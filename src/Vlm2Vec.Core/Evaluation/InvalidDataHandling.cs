namespace Vlm2Vec.Evaluation;

/// <summary>What an evaluation does with a malformed row, or with a row whose query or candidate cannot be embedded.</summary>
public enum InvalidDataHandling
{
    /// <summary>Stop with an <see cref="EvaluationDataException"/> naming the file, line and field (the default).</summary>
    Fail,

    /// <summary>
    /// Leave the row out, log a warning, and count it (<see cref="MmebEvalDataset.SkippedRowCount"/>,
    /// <see cref="MmebDatasetScore.FailedRows"/>) so that the reports show how many rows a score stands on.
    /// </summary>
    Skip,
}
