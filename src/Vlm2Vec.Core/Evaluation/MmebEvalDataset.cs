namespace Vlm2Vec.Evaluation;

/// <summary>
/// One evaluation dataset: its rows, where its images are, and how it counts in the MMEB aggregates (meta-task,
/// in/out of distribution). <see cref="MmebDataLoader"/> fills the classification from <see cref="MmebCatalog"/> (MMEB-eval
/// and MMEB-train names) or, for other names, from a suffix (<c>_cls</c>, <c>_vqa</c>, <c>_i2t</c>/<c>_t2i</c>/<c>_ret</c>,
/// <c>_gd</c>); set <see cref="MetaTask"/> and <see cref="IsOutOfDistribution"/> yourself with <c>with</c> to override.
/// </summary>
public sealed record MmebEvalDataset
{
    /// <summary>The dataset's name (the catalog name when it is an MMEB dataset, else the file or folder name).</summary>
    public required string Name { get; init; }

    /// <summary>The rows, in file order.</summary>
    public required IReadOnlyList<MmebEvalRow> Rows { get; init; }

    /// <summary>The folder relative image paths are resolved against.</summary>
    public required string ImageRoot { get; init; }

    /// <summary>The files the rows came from (several for a sharded parquet dataset).</summary>
    public IReadOnlyList<string> SourcePaths { get; init; } = [];

    /// <summary>The MMEB catalog entry, when the name is one of the 36 MMEB datasets.</summary>
    public MmebDataset? Catalog { get; init; }

    /// <summary>The meta-task the dataset's score is averaged into; null counts it in the overall mean only.</summary>
    public MmebMetaTask? MetaTask { get; init; }

    /// <summary>Out of distribution (true), in distribution (false), or neither (null: not in the IND/OOD means).</summary>
    public bool? IsOutOfDistribution { get; init; }

    /// <summary>Rows left out as malformed (with <see cref="InvalidDataHandling.Skip"/>).</summary>
    public int SkippedRowCount { get; init; }

    /// <summary>Why rows were left out: the first few messages, each naming the file, line and field.</summary>
    public IReadOnlyList<string> SkippedRowMessages { get; init; } = [];

    /// <summary>The row limit applied when loading (only the first rows were kept), or null.</summary>
    public int? RowLimit { get; init; }

    /// <summary>The absolute path of an image path as written in a row (rooted paths are kept).</summary>
    public string ResolveImagePath(string imagePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        return Path.GetFullPath(Path.IsPathRooted(imagePath) ? imagePath : Path.Combine(ImageRoot, imagePath));
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Rows.Count} rows)";
}
