namespace Vlm2Vec.Evaluation;

/// <summary>How <see cref="MmebDataLoader"/> reads evaluation data.</summary>
public sealed record MmebDataLoadOptions
{
    /// <summary>
    /// The folder relative image paths are resolved against (MMEB-eval's unpacked image folder; <c>shared/data</c> for the
    /// derived test sets). Null (default): the folder of each data file.
    /// </summary>
    public string? ImageRoot { get; init; }

    /// <summary>Keep only the first N valid rows of each dataset (null: all).</summary>
    public int? RowLimit { get; init; }

    /// <summary>What to do with a malformed row (default: fail with the file, line and field).</summary>
    public InvalidDataHandling InvalidRows { get; init; } = InvalidDataHandling.Fail;

    /// <summary>Check at load time that every referenced image file exists (default true), so that a wrong image root
    /// fails at once rather than after the model has run.</summary>
    public bool CheckImageFiles { get; init; } = true;

    /// <summary>Skip messages kept per dataset for the reports (default 10; all are counted).</summary>
    public int MaxSkipMessages { get; init; } = 10;
}
