namespace Vlm2Vec.Evaluation;

/// <summary>
/// An evaluation data file or row that cannot be used: a missing file, a line that is not JSON, a missing or mistyped
/// field, candidate lists of different lengths, a missing image file, or an input the model could not embed. The
/// message names the file, the line (JSONL) or row (parquet) and the field, and says what is allowed.
/// </summary>
public sealed class EvaluationDataException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public EvaluationDataException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public EvaluationDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public EvaluationDataException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a place in a data file.</summary>
    /// <param name="message">The whole message (it already names the place).</param>
    /// <param name="filePath">The data file.</param>
    /// <param name="lineNumber">The 1-based line (JSONL) or row (parquet); 0 when the problem is the file itself.</param>
    /// <param name="field">The field, e.g. <c>tgt_img_path[3]</c>; null when the problem is not one field's.</param>
    /// <param name="innerException">The cause, if any.</param>
    public EvaluationDataException(string message, string? filePath, int lineNumber, string? field, Exception? innerException = null)
        : base(message, innerException)
    {
        FilePath = filePath;
        LineNumber = lineNumber;
        Field = field;
    }

    /// <summary>The data file, when known.</summary>
    public string? FilePath { get; }

    /// <summary>The 1-based line (JSONL) or row (parquet); 0 when the problem is the file itself.</summary>
    public int LineNumber { get; }

    /// <summary>The field, e.g. <c>qry_text</c> or <c>tgt_img_path[3]</c>; null when not one field's.</summary>
    public string? Field { get; }
}
