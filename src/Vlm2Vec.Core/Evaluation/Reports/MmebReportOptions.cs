namespace Vlm2Vec.Evaluation;

/// <summary>Settings of <see cref="MmebReportWriter"/>.</summary>
public sealed record MmebReportOptions
{
    /// <summary>
    /// The published model to compare with (one of <see cref="MmebPublishedScores.Models"/>); null (default) picks it from
    /// the model id (<see cref="MmebPublishedScores.Match"/>).
    /// </summary>
    public string? CompareWith { get; init; }

    /// <summary>Leave out the published-score comparison column.</summary>
    public bool NoComparison { get; init; }

    /// <summary>Write thumbnails of the example images next to the HTML report (default true).</summary>
    public bool WriteThumbnails { get; init; } = true;

    /// <summary>The longest side of a thumbnail in pixels (default 160).</summary>
    public int ThumbnailSize { get; init; } = 160;

    /// <summary>JPEG quality of thumbnails, 1–100 (default 80).</summary>
    public int ThumbnailQuality { get; init; } = 80;
}
