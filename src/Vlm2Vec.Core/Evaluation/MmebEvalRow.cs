namespace Vlm2Vec.Evaluation;

/// <summary>
/// One MMEB-eval row (spec §2.2): a query (text and optional image) and its candidate list, whose element 0 is the
/// positive. Texts are stored verbatim, with MMEB's <c>&lt;|image_1|&gt;</c> placeholder; image paths are as written in
/// the data (relative to the dataset's image root), <c>""</c> for none.
/// </summary>
public sealed record MmebEvalRow
{
    /// <summary>The query string (<c>qry_text</c>).</summary>
    public required string QueryText { get; init; }

    /// <summary>The query image path (<c>qry_img_path</c>), <c>""</c> for a text-only query.</summary>
    public string QueryImagePath { get; init; } = string.Empty;

    /// <summary>The candidate strings (<c>tgt_text</c>); element 0 is the positive.</summary>
    public required IReadOnlyList<string> TargetTexts { get; init; }

    /// <summary>The candidate image paths (<c>tgt_img_path</c>), parallel to <see cref="TargetTexts"/>; <c>""</c> for none.</summary>
    public required IReadOnlyList<string> TargetImagePaths { get; init; }

    /// <summary>The 1-based line (JSONL) or row (parquet) in <see cref="SourcePath"/>; 0 for rows built in code.</summary>
    public int LineNumber { get; init; }

    /// <summary>The file the row came from; null for rows built in code.</summary>
    public string? SourcePath { get; init; }

    /// <summary>Number of candidates.</summary>
    public int CandidateCount => TargetTexts.Count;
}
