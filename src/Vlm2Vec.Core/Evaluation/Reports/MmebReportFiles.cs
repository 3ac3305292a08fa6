namespace Vlm2Vec.Evaluation;

/// <summary>The files <see cref="MmebReportWriter"/> wrote.</summary>
/// <param name="Folder">The report folder.</param>
/// <param name="ScoresJson"><c>scores.json</c>: the machine-readable scores.</param>
/// <param name="MarkdownReport"><c>report.md</c>.</param>
/// <param name="HtmlReport"><c>report.html</c>, which shows the thumbnails.</param>
/// <param name="Thumbnails">The thumbnail JPEGs under <c>thumbnails/</c>.</param>
public sealed record MmebReportFiles(string Folder, string ScoresJson, string MarkdownReport, string HtmlReport, IReadOnlyList<string> Thumbnails);
