using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// Writes an evaluation's reports into a folder: <c>scores.json</c> (machine-readable: per dataset n, hit@1, recall@5,
/// MRR, optional NDCG@5 and the published score; aggregates; model; settings; timings), <c>report.md</c> (tables), and
/// <c>report.html</c> (a self-contained page with a bar per dataset and example hits and misses, whose thumbnails are
/// written to <c>thumbnails/</c> beside it). Thumbnails are made from the user's own image files at run time.
/// </summary>
public static class MmebReportWriter
{
    /// <summary>The JSON file name.</summary>
    public const string ScoresFileName = "scores.json";

    /// <summary>The Markdown file name.</summary>
    public const string MarkdownFileName = "report.md";

    /// <summary>The HTML file name.</summary>
    public const string HtmlFileName = "report.html";

    /// <summary>The thumbnail folder, relative to the report folder.</summary>
    public const string ThumbnailFolder = "thumbnails";

    /// <summary>Writes the three reports (and the thumbnails) into <paramref name="folder"/>, creating it.</summary>
    /// <exception cref="ArgumentException">The comparison model has no published scores, or an option is out of range.</exception>
    public static async Task<MmebReportFiles> WriteAsync(
        MmebEvaluationResult result, string folder, MmebReportOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new MmebReportOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ThumbnailSize, 16, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ThumbnailQuality, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.ThumbnailQuality, 100, nameof(options));
        var model = new ReportModel(result, options);
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);

        var scores = Path.Combine(folder, ScoresFileName);
        await File.WriteAllBytesAsync(scores, ScoresJsonWriter.Write(model), cancellationToken).ConfigureAwait(false);
        var markdown = Path.Combine(folder, MarkdownFileName);
        await File.WriteAllTextAsync(markdown, MarkdownReportWriter.Write(model), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);

        var thumbnails = options.WriteThumbnails
            ? new ThumbnailWriter(folder, options.ThumbnailSize, options.ThumbnailQuality, logger ?? NullLogger.Instance)
            : null;
        var html = Path.Combine(folder, HtmlFileName);
        var page = await Task.Run(() => HtmlReportWriter.Write(model, thumbnails), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(html, page, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        return new MmebReportFiles(folder, scores, markdown, html, thumbnails?.Files ?? []);
    }

    /// <summary>The <c>scores.json</c> content.</summary>
    public static string ToJson(MmebEvaluationResult result, MmebReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Encoding.UTF8.GetString(ScoresJsonWriter.Write(new ReportModel(result, options ?? new MmebReportOptions())));
    }

    /// <summary>The <c>report.md</c> content.</summary>
    public static string ToMarkdown(MmebEvaluationResult result, MmebReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return MarkdownReportWriter.Write(new ReportModel(result, options ?? new MmebReportOptions()));
    }
}
